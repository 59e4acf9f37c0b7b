"""The reconcile's two settings, read when used: how often it runs, and its share of the cap."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from muteadmin.upstream.ratelimit import UpstreamShare

# The window of the cap the reconcile's calls keep to (a key of the shared limiter).
SHARE_NAME = "reconcile"


def reconcile_every_seconds() -> float:
    """RECONCILE_EVERY_MINUTES, in seconds."""
    minutes = settings.RECONCILE_EVERY_MINUTES
    if type(minutes) is not int or minutes < 1:
        raise ImproperlyConfigured(
            "RECONCILE_EVERY_MINUTES must be a whole number of minutes, 1 or more."
        )
    return minutes * 60.0


def reconcile_share_fraction(value: object | None = None) -> float:
    """RECONCILE_SHARE as a fraction of the cap: "25%" or "0.25" are a quarter.

    Raises ImproperlyConfigured for anything that is not more than 0 and at most 100%.
    """
    raw = str(settings.RECONCILE_SHARE if value is None else value).strip()
    try:
        fraction = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        fraction = -1.0
    if not 0 < fraction <= 1:
        raise ImproperlyConfigured(
            f"RECONCILE_SHARE must be a part of the cap above 0 and at most all of it, such as "
            f"25% or 0.25; it is {raw[:20]!r}."
        )
    return fraction


def reconcile_share() -> UpstreamShare:
    """The share of each cap the reconcile's calls keep to."""
    return UpstreamShare(name=SHARE_NAME, fraction=reconcile_share_fraction())
