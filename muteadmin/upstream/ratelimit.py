"""The one cap on calls to Tencent, shared by every thread and process using this database.

Every HTTP attempt (retries included) takes a slot first: at most settings.TIM_RATE_LIMIT slots in
any one-second sliding window. The log of slots lives beside the data: on SQLite in a file next to
the database file, guarded by a file lock; on PostgreSQL in a table of the same database, stamped
by the database's clock so workers on several machines agree.
"""

import atexit
import hashlib
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections
from pyrate_limiter import (
    Limiter,
    PostgresBucket,
    Rate,
    RateItem,
    SingleBucketFactory,
    SQLiteBucket,
)

from muteadmin.tencent.errors import TencentRateLimited

WINDOW_MS = 1000  # Tencent counts calls per second
# Each slot is held this much longer than the window: between taking a slot and the request
# leaving, the database commits and the thread waits for the CPU, a few milliseconds that now and
# then stretch to tens on a busy machine.
SEND_MARGIN_MS = 30
SLOT_NAME = "tencent"
# A caller turned away sleeps until the oldest call leaves the window, plus this, then retries.
RETRY_BUFFER_MS = 5
SQLITE_SUFFIX = ".ratelimit"
SQLITE_TABLE = "upstream_calls"
# pyrate-limiter names the PostgreSQL table "ratelimit___" + this.
POSTGRES_TABLE = "muteadmin_upstream_calls"
POSTGRES_POOL_MIN = 2
POSTGRES_POOL_MAX = 4
POSTGRES_POOL_TIMEOUT = 5.0  # seconds to wait for a pooled connection before failing the call
# Stamps are stored as TIMESTAMP without zone: one zone for every session keeps them comparable
# whatever PGTZ a worker's machine sets. The log matters for one second, so its commits need not
# wait for the disk (a wait that stretches now and then to tens of milliseconds). A slot taken
# by another process holds the log's lock for a millisecond or so: waited for, up to a limit.
POSTGRES_SESSION_OPTIONS = "-c TimeZone=UTC -c synchronous_commit=off -c lock_timeout=1000"
# pyrate-limiter's lock, waited for instead of refused at once (NOWAIT): a refusal costs the
# caller a retry after RETRY_BUFFER_MS, and under two busy processes that was every few calls.
_POSTGRES_LOCK = "LOCK TABLE {table} IN EXCLUSIVE MODE"
# pyrate-limiter's INSERT, with the same parameters, stamping each row no earlier than the INSERT.
_POSTGRES_PUT = """
    INSERT INTO {table} (name, weight, item_timestamp)
    SELECT %s, %s, GREATEST(TO_TIMESTAMP(%s), clock_timestamp()) FROM generate_series(1, %s)
"""
# Django's own connection settings that are not libpq parameters.
_DJANGO_ONLY_PARAMS = ("context", "cursor_factory")


class UpstreamSlotUnavailable(TencentRateLimited):
    """This dashboard is already sending Tencent as many calls as the cap allows."""

    default_message = (
        "muteadmin is already sending Tencent as many requests as it allows; "
        "try again in a few seconds."
    )

    @property
    def code_label(self) -> str:
        return "muteadmin rate limit"


# The limiter stamps an item once and, after each wait, adds the time it meant to sleep; a late
# wake-up or a wait for the lock would then log the call earlier than it went out, and the window
# would admit more than the cap in real time. So each bucket stamps an item itself as it checks it.


class _WaitNeverNegative:
    """pyrate-limiter reads a wait of -1 ms as "this weight can never fit" and gives up.

    A wait is computed as when the blocking call leaves the window, so it is -1 when that call
    left 2 ms ago (another thread or process was quicker): that means "try again now".
    """

    def waiting(self, item: RateItem) -> int:
        wait = super().waiting(item)
        if wait == -1 and item.weight <= min(rate.limit for rate in self.rates):
            return 0
        return wait


class _SQLiteUpstreamBucket(_WaitNeverNegative, SQLiteBucket):
    def put(self, item: RateItem) -> bool:
        # Stamped under the file lock, so the log's order is the order calls were admitted.
        with self.lock:
            item.timestamp = self.now()
            return super().put(item)


class _PostgresUpstreamBucket(_WaitNeverNegative, PostgresBucket):
    def __init__(self, pool: Any, table: str, rates: list[Rate]) -> None:
        from psycopg import sql

        super().__init__(pool, table, rates)
        # The call is logged as of its INSERT, not of the check a few round trips earlier: on a
        # busy machine those round trips take tens of milliseconds, and the call goes out after.
        table = sql.Identifier(self._full_tbl)
        self._q_put = sql.SQL(_POSTGRES_PUT).format(table=table)
        self._q_lock = sql.SQL(_POSTGRES_LOCK).format(table=table)

    def put(self, item: RateItem) -> bool:
        # The database's clock, read before the table lock is waited for: the window then also
        # counts every call logged while this one waited.
        item.timestamp = self.now()
        return super().put(item)


class _UnstampedItemFactory(SingleBucketFactory):
    """Hands the limiter items without a time: the bucket stamps them when it checks them."""

    def wrap_item(self, name: str, weight: int = 1) -> RateItem:
        return RateItem(name, 0, weight=weight)


@dataclass(frozen=True)
class _LimiterKey:
    pid: int  # a forked child must not share its parent's connections or leak thread
    limit: int
    vendor: str
    location: str  # SQLite: the bucket file; PostgreSQL: a digest of the connection parameters


_lock = threading.Lock()
_built: tuple[_LimiterKey, Limiter] | None = None
_memory_bucket_dirs: dict[int, str] = {}  # by process id


def upstream_slot(*, timeout: float) -> None:
    """Wait until one more call fits under TIM_RATE_LIMIT, or raise UpstreamSlotUnavailable."""
    if not _limiter().try_acquire(SLOT_NAME, timeout=max(timeout, 0.0)):
        raise UpstreamSlotUnavailable(UpstreamSlotUnavailable.default_message)


def ratelimit_reset() -> None:
    """Forget every slot taken and close this process's limiter (for tests); builds nothing."""
    global _built
    with _lock:
        built, _built = _built, None
    if built is not None and built[0].pid == os.getpid():
        for bucket in built[1].buckets():
            bucket.flush()
        # Closing leaves no connection to hold up dropping a test database.
        built[1].close()


def _limiter() -> Limiter:
    global _built
    key = _limiter_key()
    built = _built
    if built is not None and built[0] == key:
        return built[1]
    with _lock:
        if _built is not None and _built[0] == key:
            return _built[1]
        if _built is not None and _built[0].pid == key.pid:
            _built[1].close()
        # A limiter inherited through fork is dropped, not closed: its pool and file belong to
        # the parent.
        _built = (key, _limiter_build(key))
        return _built[1]


def _limiter_key() -> _LimiterKey:
    connection = connections["default"]
    if connection.vendor == "sqlite":
        location = _sqlite_bucket_path(connection)
    elif connection.vendor == "postgresql":
        # A digest, so no password sits in a key that might be printed.
        params = repr(sorted(_postgres_params(connection).items()))
        location = hashlib.sha256(params.encode()).hexdigest()
    else:
        raise NotImplementedError(f"No shared rate limit for the {connection.vendor} database.")
    return _LimiterKey(
        pid=os.getpid(),
        limit=settings.TIM_RATE_LIMIT,
        vendor=connection.vendor,
        location=location,
    )


def _limiter_build(key: _LimiterKey) -> Limiter:
    rates = [Rate(key.limit, WINDOW_MS + SEND_MARGIN_MS)]
    if key.vendor == "sqlite":
        bucket = _SQLiteUpstreamBucket.init_from_file(
            rates, table=SQLITE_TABLE, db_path=key.location, use_file_lock=True
        )
        # The log matters for one second, so a crash may lose it: no fsync, not even when the
        # write-ahead log is checkpointed, which otherwise stalls a call now and then.
        bucket.conn.execute("PRAGMA synchronous=OFF").close()
    else:
        from psycopg_pool import ConnectionPool

        pool = ConnectionPool(
            kwargs=_postgres_params(connections["default"]),
            min_size=POSTGRES_POOL_MIN,
            max_size=POSTGRES_POOL_MAX,
            timeout=POSTGRES_POOL_TIMEOUT,
            name="muteadmin-ratelimit",
            open=True,
        )
        bucket = _PostgresUpstreamBucket(pool, POSTGRES_TABLE, rates)
    return Limiter(_UnstampedItemFactory(bucket), buffer_ms=RETRY_BUFFER_MS)


def _sqlite_bucket_path(connection: Any) -> str:
    if not connection.is_in_memory_db():
        return f"{connection.settings_dict['NAME']}{SQLITE_SUFFIX}"
    # An in-memory database (the test suite's) lives and dies with its process; so does this file.
    pid = os.getpid()
    if pid not in _memory_bucket_dirs:
        _memory_bucket_dirs[pid] = tempfile.mkdtemp(prefix="muteadmin-ratelimit-")
        atexit.register(_memory_bucket_dir_remove, pid=pid)
    return os.path.join(_memory_bucket_dirs[pid], f"memory{SQLITE_SUFFIX}")


def _memory_bucket_dir_remove(*, pid: int) -> None:
    # A forked child inherits this hook; only the process that made the directory removes it.
    if os.getpid() == pid:
        shutil.rmtree(_memory_bucket_dirs[pid], ignore_errors=True)


def _postgres_params(connection: Any) -> dict[str, Any]:
    params = connection.get_connection_params()
    for name in _DJANGO_ONLY_PARAMS:
        params.pop(name, None)
    params["options"] = f"{params.get('options', '')} {POSTGRES_SESSION_OPTIONS}".strip()
    return params
