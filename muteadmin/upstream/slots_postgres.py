"""The log of upstream slots in a table of the PostgreSQL database, shared by every machine.

Stamps come from the database's clock (clock_timestamp()), so workers on several machines agree
whatever their own clocks say. One transaction-scoped advisory lock per key makes reading the
window and taking a slot one step; the window is read by a statement begun after the lock is
granted, so it sees every slot committed by whoever held the lock before. The connection is this
process's own, not Django's: a slot commits at once, whatever transaction the caller is in.
"""

import threading
import zlib
from typing import Any

import psycopg

from muteadmin.upstream.slots import SlotRules, Taken

# The first half of every advisory lock key taken here, so no other use of them collides.
LOCK_CLASS = 0x6D757465  # "mute"
# The log matters for one second, so its commits need not wait for the disk (a wait that
# stretches now and then to tens of milliseconds).
SESSION_OPTIONS = "-c synchronous_commit=off"

_SCHEMA = """
    CREATE TABLE IF NOT EXISTS muteadmin_upstream_slots (
        id bigserial PRIMARY KEY,
        key text NOT NULL,
        stamp double precision NOT NULL,
        pending boolean NOT NULL
    );
    CREATE INDEX IF NOT EXISTS muteadmin_upstream_slots_key_stamp
        ON muteadmin_upstream_slots (key, stamp)
"""
_LOCK = "SELECT pg_advisory_xact_lock(%s, %s)"
# One statement: the time, the pruning, the count and, when there is room, the new slot. A sent
# slot counts for `hold` seconds from its stamp, a pending one until it expires.
_TAKE = """
    WITH now AS (SELECT extract(epoch FROM clock_timestamp())::double precision AS t),
    counted AS (
        SELECT stamp, pending, stamp > now.t - CASE WHEN pending THEN %(expiry)s
                                                     ELSE %(hold)s END AS live
        FROM muteadmin_upstream_slots, now WHERE key = %(key)s
    ),
    pruned AS (
        DELETE FROM muteadmin_upstream_slots USING now
        WHERE key = %(key)s
          AND stamp <= now.t - CASE WHEN pending THEN %(expiry)s ELSE %(hold)s END
    ),
    window_ AS (
        SELECT count(*) FILTER (WHERE live) AS n,
               min(stamp) FILTER (WHERE live AND NOT pending) AS oldest_sent
        FROM counted
    ),
    taken AS (
        INSERT INTO muteadmin_upstream_slots (key, stamp, pending)
        SELECT %(key)s, now.t, true FROM now, window_ WHERE window_.n < %(limit)s
        RETURNING id
    )
    SELECT (SELECT id FROM taken), now.t, window_.oldest_sent FROM now, window_
"""
_SENT = """
    UPDATE muteadmin_upstream_slots SET pending = false,
        stamp = greatest(stamp, extract(epoch FROM clock_timestamp())::double precision)
    WHERE id = %s
"""


class PostgresSlotTable:
    """Slots in the PostgreSQL database that `params` (psycopg connection keywords) names."""

    def __init__(self, *, params: dict[str, Any], rules: SlotRules) -> None:
        self.rules = rules
        self._lock = threading.Lock()
        options = f"{params.get('options', '')} {SESSION_OPTIONS}".strip()
        self._db = psycopg.connect(**{**params, "options": options}, autocommit=False)
        with self._db.transaction():
            # Two processes may create the table at once; the lock lets one do it.
            self._db.execute(_LOCK, (LOCK_CLASS, 0))
            for statement in _SCHEMA.split(";"):
                self._db.execute(statement)

    def take(self, key: str, *, limit: int) -> Taken:
        """Take a pending slot under `key` if fewer than `limit` count, or say how long to wait."""
        arguments = {
            "key": key,
            "limit": limit,
            "hold": self.rules.hold,
            "expiry": self.rules.pending_expiry,
        }
        with self._lock, self._db.transaction():
            self._db.execute(_LOCK, (LOCK_CLASS, _key_lock(key)))
            slot_id, now, oldest_sent = self._db.execute(_TAKE, arguments).fetchone()
        if slot_id is not None:
            return Taken(slot_id=slot_id, wait=0.0)
        return Taken(slot_id=None, wait=self.rules.wait(now=now, oldest_sent=oldest_sent))

    def sent(self, slot_id: int) -> None:
        """Stamp the slot with the time its request goes out: it counts for `hold` from now."""
        with self._lock, self._db.transaction():
            self._db.execute(_SENT, (slot_id,))

    def clear(self) -> None:
        """Forget every slot, of every key."""
        with self._lock, self._db.transaction():
            self._db.execute("DELETE FROM muteadmin_upstream_slots")

    def close(self) -> None:
        self._db.close()


def _key_lock(key: str) -> int:
    # A stable signed 32-bit number per key; two keys sharing one only wait for each other.
    return zlib.crc32(key.encode()) - 2**31
