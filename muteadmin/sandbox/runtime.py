"""What the emulator takes from its surroundings: the time, a way to wait, and its rate window."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings

from muteadmin.sandbox.protocol import RateLimiter

# How long a "timeout" fault holds a request served over HTTP: longer than any sane read timeout.
HOLD_SECONDS = 30.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SandboxRuntime:
    """The emulator's clock, sleep and 200 calls/s window; tests pass their own."""

    clock: Callable[[], datetime] = _utc_now
    sleep: Callable[[float], None] = time.sleep
    # Counted per process: a window shared through the database, as Tencent's counter is shared,
    # would cost every emulated call a write transaction.
    rate_limiter: RateLimiter = field(default_factory=RateLimiter)
    hold_seconds: float = HOLD_SECONDS


_PROCESS_RUNTIME = SandboxRuntime()


def sandbox_runtime() -> SandboxRuntime:
    """The runtime in force: the TIM_SANDBOX_RUNTIME setting when one is set, else the real one."""
    # An object rather than an environment value: only tests and embedders replace it.
    return getattr(settings, "TIM_SANDBOX_RUNTIME", None) or _PROCESS_RUNTIME
