"""Who holds which account of a job: claims, their leases, and the workers behind them.

Each account (a BulkItem) is claimed, and the claim committed, before its call; the claim carries
a lease that its worker renews every few seconds. An item still in flight whose lease ran out, or
whose worker process is gone from this host, belonged to a dead worker: whoever claims it next
re-checks it rather than sending it again blindly.
"""

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError, transaction
from django.db.models import DateTimeField, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from muteadmin.bulk.models import BulkItem, BulkJob

logger = logging.getLogger(__name__)

# A claim not renewed for this long belongs to a dead worker (renewed every heartbeat).
LEASE_SECONDS = 60.0
_HOST_MAX = 40

# Worker names of the runs alive in this process, so a claim of a finished run counts as dead.
_active_workers: set[str] = set()
_active_lock = threading.Lock()


def bulk_worker_name(*, task_id: str) -> str:
    """A name unique to this run: host, process id and task, e.g. "web-1:4242:1f0c…"."""
    return f"{socket.gethostname()[:_HOST_MAX]}:{os.getpid()}:{task_id}"[:100]


@contextmanager
def worker_alive(worker: str) -> Iterator[None]:
    """Count the worker of this name as alive in this process while the block runs."""
    with _active_lock:
        _active_workers.add(worker)
    try:
        yield
    finally:
        with _active_lock:
            _active_workers.discard(worker)


def worker_gone(worker: str) -> bool:
    """Whether the worker of this name is known to have stopped (knowable on this host only)."""
    host, _, rest = worker.partition(":")
    pid_text, _, _ = rest.partition(":")
    if host != socket.gethostname()[:_HOST_MAX] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        with _active_lock:
            return worker not in _active_workers
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass(frozen=True)
class Claimed:
    """An account this worker holds; `recheck` when a dead worker may have sent its call."""

    id: int
    account: str
    claimed_at: datetime
    recheck: bool
    rescheduled: int = 0


@dataclass(frozen=True)
class Claim:
    """What one claim found: the job's state, and the accounts now held."""

    running: bool
    cancel_requested: bool
    items: list[Claimed]


class Leases:
    """One worker's claims on one job. Every time comes from `clock`."""

    def __init__(
        self,
        *,
        job_id: int,
        worker: str,
        clock: Callable[[], datetime],
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.job_id = job_id
        self.worker = worker
        self.clock = clock
        self.lease = timedelta(seconds=lease_seconds)

    def _items(self) -> QuerySet[BulkItem]:
        return BulkItem.objects.filter(job_id=self.job_id)

    def _mine(self, ids: list[int]) -> QuerySet[BulkItem]:
        return self._items().filter(
            id__in=ids, state=BulkItem.State.IN_FLIGHT, claimed_by=self.worker
        )

    def claim(self, *, size: int, fresh: bool = True) -> Claim:
        """Claim up to `size` items, abandoned in-flight ones first; committed before any is sent.

        Unsent items are taken only with `fresh` and no cancel, and only once they are due.
        """
        now = self.clock()
        with transaction.atomic():
            job = BulkJob.objects.filter(pk=self.job_id).values("state", "cancel_requested").first()
            if job is None or job["state"] != BulkJob.State.RUNNING:
                return Claim(running=False, cancel_requested=False, items=[])
            cancel = job["cancel_requested"]
            items = self._items().order_by("position")
            fields = ("id", "account", "claimed_at", "rescheduled")
            # Abandoned calls are settled even after a cancel: they may have gone through.
            abandoned = items.filter(state=BulkItem.State.IN_FLIGHT, lease_until__lte=now)
            rows = list(_lockable(abandoned).values(*fields)[:size])
            recheck = {row["id"] for row in rows}
            if fresh and not cancel and len(rows) < size:
                due = Q(not_before__isnull=True) | Q(not_before__lte=now)
                todo = items.filter(due, state=BulkItem.State.TODO)
                rows += _lockable(todo).values(*fields)[: size - len(rows)]
            if rows:
                self._items().filter(id__in=[row["id"] for row in rows]).update(
                    state=BulkItem.State.IN_FLIGHT,
                    claimed_by=self.worker,
                    # The first claim's time is kept: it bounds when the call may have been sent.
                    claimed_at=Coalesce("claimed_at", Value(now, output_field=DateTimeField())),
                    lease_until=now + self.lease,
                )
        claimed = [
            Claimed(
                id=row["id"],
                account=row["account"],
                claimed_at=row["claimed_at"] or now,
                recheck=row["id"] in recheck,
                rescheduled=row["rescheduled"],
            )
            for row in rows
        ]
        return Claim(running=True, cancel_requested=cancel, items=claimed)

    def renew(self) -> bool:
        """Extend this worker's leases and the job's heartbeat; True if a cancel was asked for."""
        now = self.clock()
        try:
            self._items().filter(state=BulkItem.State.IN_FLIGHT, claimed_by=self.worker).update(
                lease_until=now + self.lease
            )
            BulkJob.objects.filter(pk=self.job_id, state=BulkJob.State.RUNNING).update(
                heartbeat_at=now
            )
            return BulkJob.objects.filter(pk=self.job_id, cancel_requested=True).exists()
        except DatabaseError:
            # The next beat tries again; leases are long enough to miss a few.
            logger.exception("Bulk job %d: heartbeat failed.", self.job_id)
            return False

    def release(self, items: list[Claimed]) -> int:
        """Hand back items never sent, as not sent; those to re-check are left to expire."""
        fresh = [item.id for item in items if not item.recheck]
        released = 0
        if fresh:
            released = self._mine(fresh).update(
                state=BulkItem.State.TODO, claimed_by="", claimed_at=None, lease_until=None
            )
        self.abandon([item for item in items if item.recheck])
        return released

    def abandon(self, items: list[Claimed]) -> None:
        """Whether their calls left is unknown: end the leases so the next claim re-checks them."""
        if not items:
            return
        try:
            self._mine([item.id for item in items]).update(claimed_by="", lease_until=self.clock())
        except DatabaseError:
            # The lease runs out by itself once this worker stops renewing it.
            logger.exception("Bulk job %d: could not hand back claimed items.", self.job_id)

    def expire_dead(self) -> None:
        """End at once the leases of workers known to be gone, rather than wait them out."""
        in_flight = self._items().filter(state=BulkItem.State.IN_FLIGHT)
        holders = (
            in_flight.exclude(claimed_by__in=["", self.worker])
            .order_by()
            .values_list("claimed_by", flat=True)
            .distinct()
        )
        dead = [holder for holder in holders if worker_gone(holder)]
        if dead:
            logger.warning(
                "Bulk job %d: re-checking the calls in flight of stopped workers %s.",
                self.job_id,
                ", ".join(dead),
            )
            in_flight.filter(claimed_by__in=dead).update(lease_until=self.clock())


class Heartbeat:
    """Renews a worker's leases every `seconds` (by `clock`), from whichever thread asks first."""

    def __init__(
        self,
        *,
        leases: Leases,
        seconds: float,
        clock: Callable[[], datetime],
        cancel: threading.Event,
    ) -> None:
        self.leases = leases
        self.interval = timedelta(seconds=seconds)
        self.clock = clock
        self.cancel = cancel
        self._lock = threading.Lock()
        self._last = clock()

    def beat(self) -> None:
        with self._lock:
            self._last = self.clock()
            # Threads learn of a cancel when they next claim; this catches it between claims.
            if self.leases.renew():
                self.cancel.set()

    def beat_if_due(self) -> None:
        if self.clock() - self._last >= self.interval:
            self.beat()


def _lockable(items: QuerySet[BulkItem]) -> QuerySet[BulkItem]:
    """Rows another worker is claiming are skipped, not waited for, where the database can."""
    return items.select_for_update(skip_locked=True)
