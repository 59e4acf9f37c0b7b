"""The one cap on calls to Tencent, shared by every thread and process using this database.

Every HTTP attempt (retries included) takes a slot first, keyed by (app, API): at most `limit`
slots count at once. A slot counts from when it is granted while its request is pending, and
for one second (plus SEND_MARGIN) from when the request goes out, which the caller reports with
`UpstreamSlot.sent()`. The log of slots lives beside the data: on SQLite in a file next to the
database file, on PostgreSQL in a table of the same database, stamped by the database's clock so
workers on several machines agree. See slots.py for why this holds at the receiver.
"""

import atexit
import contextlib
import hashlib
import math
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.utils.translation import gettext_noop

from muteadmin.core import metrics
from muteadmin.tencent.apis import Api
from muteadmin.tencent.errors import TencentRateLimited
from muteadmin.upstream.pressure import pressure_record
from muteadmin.upstream.slots import SlotRules, SlotTable

WINDOW_MS = 1000  # Tencent counts calls per second
# A sent slot is held this much past the window. On Tencent's API the client stamps a request
# just after writing it (muteadmin/tencent/transport.py): it arrives later by the network's
# transit, which every call pays alike, and the last call granted in any receiver window paid it
# too after being granted, so only the difference between two calls' transits needs covering.
# The emulator's transport stamps a request as it arrives.
SEND_MARGIN_MS = 25
# A slot still pending after this long belongs to a process that died before sending: no call
# waits for a slot, sends and retries longer than LONGEST_DEADLINE (60 s).
PENDING_EXPIRY_SECONDS = 60.0
RULES = SlotRules(hold=(WINDOW_MS + SEND_MARGIN_MS) / 1000, pending_expiry=PENDING_EXPIRY_SECONDS)
SQLITE_SUFFIX = ".ratelimit"
# Django's own connection settings that are not libpq parameters.
_DJANGO_ONLY_PARAMS = ("context", "cursor_factory")


class UpstreamSlotUnavailable(TencentRateLimited):
    """This dashboard is already sending Tencent as many calls as the cap allows."""

    default_message = gettext_noop(
        "muteadmin is already sending Tencent as many requests as it allows; "
        "try again in a few seconds."
    )

    @property
    def code_label(self) -> str:
        return self.translate(gettext_noop("muteadmin rate limit"))


@dataclass(frozen=True)
class UpstreamSlot:
    """A granted slot; call sent() as its request goes out, so the slot counts from then."""

    table: SlotTable
    slot_id: Hashable

    def sent(self) -> None:
        """Restamp the slot with the time now: it counts for one window (and the margin) more."""
        self.table.sent(self.slot_id)


@dataclass(frozen=True)
class UpstreamShare:
    """A part of each cap kept to by a background caller (the reconcile), so people keep the rest.

    Its calls take a slot of their own window, `fraction` of the cap, before the shared one: so
    at the receiver they never make more than that part of the cap in any second, whichever
    processes make them.
    """

    name: str
    fraction: float

    def limit(self, cap: int) -> int:
        """The calls a second this share may make under `cap`: never none."""
        return max(1, math.floor(cap * self.fraction))


def upstream_slot(
    *, app: str, api: Api, limit: int, timeout: float, share: str = ""
) -> UpstreamSlot:
    """Wait up to `timeout` seconds until one more call to `api` fits under `limit` for `app`.

    Raise UpstreamSlotUnavailable when it does not. `app` tells apart the Tencent apps (each has
    its own caps) that share this database; `share` names a window of an UpstreamShare's own.
    """
    key = f"{app}:{api.path}" + (f"#{share}" if share else "")
    started = time.monotonic()
    deadline = started + max(timeout, 0.0)
    table = _table()
    waited = metrics.limiter_wait.labels(app=app, api=api.name)
    while True:
        try:
            taken = table.take(key, limit=limit)
        except Exception:
            # A connection the database dropped is not used again: the next call makes another.
            _table_forget(table)
            raise
        if taken.slot_id is not None:
            waited.observe(time.monotonic() - started)
            return UpstreamSlot(table=table, slot_id=taken.slot_id)
        # Full: recorded (a few seconds apart), so a limiter saturated for long is noticed.
        pressure_record(key=key)
        left = deadline - time.monotonic()
        if left <= 0:
            waited.observe(time.monotonic() - started)
            metrics.limiter_refused.labels(app=app, api=api.name).inc()
            raise UpstreamSlotUnavailable(UpstreamSlotUnavailable.default_message)
        time.sleep(min(taken.wait, left))


def ratelimit_reset() -> None:
    """Forget every slot taken and close this process's table (for tests); builds nothing."""
    global _built
    with _lock:
        built, _built = _built, None
    # A table inherited through fork is dropped, not used: its connection belongs to the parent.
    if built is not None and built[0].pid == os.getpid():
        built[1].clear()
        # Closing leaves no connection to hold up dropping a test database.
        built[1].close()


@dataclass(frozen=True)
class _TableKey:
    pid: int
    vendor: str
    location: str  # SQLite: the log's file; PostgreSQL: a digest of the connection parameters


_lock = threading.Lock()
_built: tuple[_TableKey, SlotTable] | None = None
_memory_dirs: dict[int, str] = {}  # by process id


def _table() -> SlotTable:
    global _built
    key = _table_key()
    built = _built
    if built is not None and built[0] == key:
        return built[1]
    with _lock:
        if _built is not None and _built[0] == key:
            return _built[1]
        if _built is not None and _built[0].pid == key.pid:
            _built[1].close()
        _built = (key, _table_build(key))
        # Closed before the interpreter stops, or a connection pool's threads hold up the exit.
        atexit.register(_table_close_at_exit, table=_built[1], pid=key.pid)
        return _built[1]


def _table_close_at_exit(*, table: SlotTable, pid: int) -> None:
    if os.getpid() == pid:
        with contextlib.suppress(Exception):
            table.close()


def _table_forget(table: SlotTable) -> None:
    global _built
    with _lock:
        if _built is None or _built[1] is not table:
            return
        _built = None
    with contextlib.suppress(Exception):
        table.close()


def _table_key() -> _TableKey:
    connection = connections["default"]
    if connection.vendor == "sqlite":
        location = _sqlite_path(connection)
    elif connection.vendor == "postgresql":
        # A digest, so no password sits in a key that might be printed.
        params = repr(sorted(_postgres_params(connection).items()))
        location = hashlib.sha256(params.encode()).hexdigest()
    else:
        raise NotImplementedError(f"No shared rate limit for the {connection.vendor} database.")
    return _TableKey(pid=os.getpid(), vendor=connection.vendor, location=location)


def _table_build(key: _TableKey) -> SlotTable:
    if key.vendor == "sqlite":
        from muteadmin.upstream.slots_sqlite import SQLiteSlotTable

        return SQLiteSlotTable(path=key.location, rules=RULES)
    from muteadmin.upstream.slots_postgres import PostgresSlotTable

    return PostgresSlotTable(params=_postgres_params(connections["default"]), rules=RULES)


def _sqlite_path(connection: Any) -> str:
    if not connection.is_in_memory_db():
        return f"{connection.settings_dict['NAME']}{SQLITE_SUFFIX}"
    # An in-memory database (the test suite's) lives and dies with its process; so does this file.
    pid = os.getpid()
    if pid not in _memory_dirs:
        _memory_dirs[pid] = tempfile.mkdtemp(prefix="muteadmin-ratelimit-")
        atexit.register(_memory_dir_remove, pid=pid)
    return os.path.join(_memory_dirs[pid], f"memory{SQLITE_SUFFIX}")


def _memory_dir_remove(*, pid: int) -> None:
    # A forked child inherits this hook; only the process that made the directory removes it.
    if os.getpid() == pid:
        shutil.rmtree(_memory_dirs[pid], ignore_errors=True)


def _postgres_params(connection: Any) -> dict[str, Any]:
    params = connection.get_connection_params()
    for name in _DJANGO_ONLY_PARAMS:
        params.pop(name, None)
    return params
