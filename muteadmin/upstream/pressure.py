"""Saturation of the rate limiter: a caller made to wait for a slot is recorded, a few seconds
apart per key and process, so a periodic check can tell a limiter saturated for over a minute.

A stretch of waiting starts with the first wait after QUIET_GAP seconds without one, and lasts
while waits keep being recorded. Recording never fails the call that waited.
"""

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from django.db import DatabaseError, transaction

from muteadmin.core.clock import clock
from muteadmin.upstream.models import LimiterPressure

logger = logging.getLogger(__name__)

# Each process writes a key's waits at most this often: a saturated limiter costs the database
# one small write per key every few seconds, not one per refused slot.
RECORD_EVERY_SECONDS = 5.0
# A stretch ends after this long without a recorded wait.
QUIET_GAP = timedelta(seconds=15)

_lock = threading.Lock()
_last_recorded: dict[str, float] = {}


def _now() -> datetime:
    return datetime.fromtimestamp(clock().time(), UTC)


def pressure_record(*, key: str) -> None:
    """A caller waited for a slot of `key`: extend (or start) its stretch of waiting."""
    moment = time.monotonic()
    with _lock:
        last = _last_recorded.get(key)
        if last is not None and moment - last < RECORD_EVERY_SECONDS:
            return
        _last_recorded[key] = moment
    now = _now()
    try:
        with transaction.atomic():
            row = LimiterPressure.objects.select_for_update().filter(key=key).first()
            if row is None:
                LimiterPressure.objects.create(key=key, since=now, last_wait_at=now)
                return
            if now - row.last_wait_at > QUIET_GAP:
                row.since = now
            row.last_wait_at = max(row.last_wait_at, now)
            row.save(update_fields=["since", "last_wait_at"])
    except DatabaseError as exc:
        logger.warning("The rate limiter's wait for %s could not be recorded: %s", key, exc)


def pressure_reset() -> None:
    """Forget when this process last recorded each key (for tests)."""
    with _lock:
        _last_recorded.clear()


def pressure_saturated(*, longer_than: timedelta) -> list[LimiterPressure]:
    """The keys still waiting now that have waited for `longer_than`, not yet notified."""
    now = _now()
    rows = LimiterPressure.objects.filter(
        last_wait_at__gte=now - QUIET_GAP, since__lte=now - longer_than
    )
    return [row for row in rows if row.notified_since != row.since]


def pressure_claim(row: LimiterPressure) -> bool:
    """Mark the row's stretch as notified; False when another worker did first."""
    return bool(
        LimiterPressure.objects.filter(pk=row.pk, since=row.since)
        .exclude(notified_since=row.since)
        .update(notified_since=row.since)
    )
