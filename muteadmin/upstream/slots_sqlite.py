"""The log of upstream slots in a SQLite file, shared by every process on one machine.

Each slot is a row: granted as pending, stamped again when its request goes out. SQLite's own
write lock (BEGIN IMMEDIATE) makes reading the window and taking a slot one step across
processes; a lock per process lines this process's threads up first, so they do not spin in
SQLite's busy handler against each other.
"""

import sqlite3
import threading
import time
from collections.abc import Callable

from muteadmin.upstream.slots import SlotRules, Taken

# Another process holds the write lock for well under a millisecond; this is a stalled disk.
BUSY_TIMEOUT_MS = 10_000

_SCHEMA = """
    CREATE TABLE IF NOT EXISTS upstream_slots (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        stamp REAL NOT NULL,
        pending INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS upstream_slots_key_stamp ON upstream_slots (key, stamp);
"""
# A sent slot counts for `hold` seconds from its stamp; a pending one until it expires.
_PRUNE = """
    DELETE FROM upstream_slots
    WHERE key = ? AND stamp <= ? - CASE pending WHEN 1 THEN ? ELSE ? END
"""
_COUNT = """
    SELECT count(*), min(CASE pending WHEN 0 THEN stamp END) FROM upstream_slots WHERE key = ?
"""
_TAKE = "INSERT INTO upstream_slots (key, stamp, pending) VALUES (?, ?, 1)"
_SENT = "UPDATE upstream_slots SET stamp = max(stamp, ?), pending = 0 WHERE id = ?"


class SQLiteSlotTable:
    """Slots in the SQLite file at `path`, timed by `clock` (seconds since the epoch)."""

    def __init__(
        self, *, path: str, rules: SlotRules, clock: Callable[[], float] = time.time
    ) -> None:
        self.rules = rules
        self._clock = clock
        self._lock = threading.Lock()
        # Autocommit: every transaction below is begun and ended explicitly.
        self._db = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
        )
        # The log matters for one second: a crash may lose it, so no write waits for the disk.
        self._db.execute("PRAGMA journal_mode=WAL").close()
        self._db.execute("PRAGMA synchronous=OFF").close()
        self._db.executescript(_SCHEMA)

    def take(self, key: str, *, limit: int) -> Taken:
        """Take a pending slot under `key` if fewer than `limit` count, or say how long to wait."""
        with self._lock, self._transaction():
            # Read under the write lock, so stamps follow the order slots were granted in.
            now = self._clock()
            self._db.execute(_PRUNE, (key, now, self.rules.pending_expiry, self.rules.hold)).close()
            count, oldest_sent = self._db.execute(_COUNT, (key,)).fetchone()
            if count < limit:
                slot_id = self._db.execute(_TAKE, (key, now)).lastrowid
                return Taken(slot_id=slot_id, wait=0.0)
        return Taken(slot_id=None, wait=self.rules.wait(now=now, oldest_sent=oldest_sent))

    def sent(self, slot_id: int) -> None:
        """Stamp the slot with the time its request goes out: it counts for `hold` from now."""
        with self._lock, self._transaction():
            self._db.execute(_SENT, (self._clock(), slot_id)).close()

    def clear(self) -> None:
        """Forget every slot, of every key."""
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM upstream_slots").close()

    def close(self) -> None:
        self._db.close()

    def _transaction(self) -> "_Immediate":
        return _Immediate(self._db)


class _Immediate:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK when the block raises."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE").close()

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK").close()
