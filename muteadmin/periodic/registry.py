"""The periodic jobs: each app registers its own (name, interval, what to run) when it is ready."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PeriodicSpec:
    """A job run every `every` seconds (at the first tick after it falls due) by a worker."""

    name: str
    every: float
    run: Callable[[], object]


_REGISTRY: dict[str, PeriodicSpec] = {}


def periodic_register(*, name: str, every: float, run: Callable[[], object]) -> PeriodicSpec:
    """Register (or replace) the job called `name`; call it from an AppConfig.ready()."""
    if every <= 0:
        raise ValueError("A periodic job's interval must be positive.")
    spec = PeriodicSpec(name=name, every=every, run=run)
    _REGISTRY[name] = spec
    return spec


def periodic_unregister(*, name: str) -> None:
    """Forget the job called `name` (nothing if it is not registered)."""
    _REGISTRY.pop(name, None)


def periodic_specs() -> list[PeriodicSpec]:
    """Every registered job, by name."""
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]
