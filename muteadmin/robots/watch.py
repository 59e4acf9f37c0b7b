"""The limiter watch: a periodic job that tells destinations when callers have waited for the
rate limiter for over a minute (muteadmin/upstream/pressure.py records the waits)."""

from datetime import timedelta

from muteadmin.robots.events import notify_event
from muteadmin.robots.models import EVENT_LIMITER_SATURATED
from muteadmin.upstream.pressure import pressure_claim, pressure_saturated

SATURATED_FOR = timedelta(minutes=1)


def limiter_saturation_notify() -> list[str]:
    """Notify once per stretch of saturation longer than SATURATED_FOR; the keys notified."""
    notified = []
    for row in pressure_saturated(longer_than=SATURATED_FOR):
        if not pressure_claim(row):
            continue
        app, _, api = row.key.partition(":")
        seconds = int((row.last_wait_at - row.since).total_seconds())
        notify_event(EVENT_LIMITER_SATURATED, app=app, api=api, seconds=seconds, since=row.since)
        notified.append(row.key)
    return notified
