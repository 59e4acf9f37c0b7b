"""The log of upstream slots in a table of the PostgreSQL database, shared by every machine.

Each key has one row per slot its limit allows (rows 0 .. limit - 1), and a row counts until the
time in `until`: a granted slot's row until it expires while its request is pending, then until
one hold past the time it was sent. Taking a slot takes a row whose time has passed; SKIP LOCKED
keeps two takers off one row without a lock on the whole key, and a row taken meanwhile by a
committed taker is skipped, as READ COMMITTED checks it again once locked. So no more slots than
rows count at once. The rows are updated in place and no indexed column changes, so the table
stays small: no pruning, no dead index entries for each call to step over. When the limit is
lowered, the rows past it are no longer taken but count on until their times pass (a second).

Times come from the database's clock (clock_timestamp()), so workers on several machines agree.
The connection is this process's own, not Django's: a slot commits at once, whatever
transaction the caller is in.
"""

import secrets
import threading
from typing import Any

import psycopg

from muteadmin.upstream.slots import SlotRules, Taken

# The log matters for one second, so its commits need not wait for the disk (a wait that
# stretches now and then to tens of milliseconds).
SESSION_OPTIONS = "-c synchronous_commit=off"
# The first half of the advisory lock key that guards creating the table.
LOCK_CLASS = 0x6D757465  # "mute"

_SCHEMA = """
    CREATE TABLE IF NOT EXISTS muteadmin_upstream_slots (
        key text NOT NULL,
        n integer NOT NULL,
        until double precision NOT NULL,
        pending boolean NOT NULL,
        token bigint NOT NULL,
        PRIMARY KEY (key, n)
    )
"""
_ROWS = """
    INSERT INTO muteadmin_upstream_slots (key, n, until, pending, token)
    SELECT %s, n, 0, false, 0 FROM generate_series(0, %s - 1) AS n
    ON CONFLICT DO NOTHING
"""
_TAKE = """
    WITH now AS (SELECT extract(epoch FROM clock_timestamp())::double precision AS t),
    free AS (
        SELECT slot.n FROM muteadmin_upstream_slots AS slot, now
        WHERE slot.key = %(key)s AND slot.n < %(limit)s AND slot.until <= now.t
        LIMIT 1
        FOR UPDATE OF slot SKIP LOCKED
    )
    UPDATE muteadmin_upstream_slots AS slot
    SET until = now.t + %(expiry)s, pending = true, token = %(token)s
    FROM now, free
    WHERE slot.key = %(key)s AND slot.n = free.n
    RETURNING slot.n
"""
_FULL = """
    SELECT extract(epoch FROM clock_timestamp())::double precision,
        min(until) FILTER (WHERE NOT pending), count(*)
    FROM muteadmin_upstream_slots WHERE key = %s AND n < %s
"""
_SENT = """
    UPDATE muteadmin_upstream_slots
    SET until = extract(epoch FROM clock_timestamp())::double precision + %s, pending = false
    WHERE key = %s AND n = %s AND token = %s
"""


class PostgresSlotTable:
    """Slots in the PostgreSQL database that `params` (psycopg connection keywords) names."""

    def __init__(self, *, params: dict[str, Any], rules: SlotRules) -> None:
        self.rules = rules
        self._lock = threading.Lock()
        self._rows_made: set[tuple[str, int]] = set()
        options = f"{params.get('options', '')} {SESSION_OPTIONS}".strip()
        # Autocommit: each statement below is a transaction of its own.
        self._db = psycopg.connect(**{**params, "options": options}, autocommit=True)
        with self._db.transaction():
            # Two processes may create the table at once; the lock lets one do it.
            self._db.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_CLASS,))
            self._db.execute(_SCHEMA)

    def take(self, key: str, *, limit: int) -> Taken:
        """Take a pending slot under `key` if fewer than `limit` count, or say how long to wait."""
        token = secrets.randbits(62)
        arguments = {"key": key, "limit": limit, "expiry": self.rules.pending_expiry}
        with self._lock:
            if (key, limit) not in self._rows_made:
                self._db.execute(_ROWS, (key, limit))
                self._rows_made.add((key, limit))
            row = self._db.execute(_TAKE, {**arguments, "token": token}).fetchone()
            if row is None:
                now, first_free, rows = self._db.execute(_FULL, (key, limit)).fetchone()
                if rows < limit:
                    # Someone emptied the table (a test's reset, say): make the rows again.
                    self._rows_made.discard((key, limit))
                    return Taken(slot_id=None, wait=0.0)
        if row is not None:
            return Taken(slot_id=(key, row[0], token), wait=0.0)
        # A sent slot's row is free at its stamp plus the hold.
        oldest_sent = None if first_free is None else first_free - self.rules.hold
        return Taken(slot_id=None, wait=self.rules.wait(now=now, oldest_sent=oldest_sent))

    def sent(self, slot_id: tuple[str, int, int]) -> None:
        """Count the slot for `hold` from now, unless it expired and was taken again since."""
        key, n, token = slot_id
        with self._lock:
            self._db.execute(_SENT, (self.rules.hold, key, n, token))

    def clear(self) -> None:
        """Forget every slot, of every key."""
        with self._lock:
            self._db.execute("DELETE FROM muteadmin_upstream_slots")
            self._rows_made.clear()

    def close(self) -> None:
        self._db.close()
