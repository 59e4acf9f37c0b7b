"""Bulk jobs: create one from a confirmed list, run its accounts exactly once, cancel, recover.

Exactly once, across crashes: each account (a BulkItem) is claimed, and the claim committed,
before its call; the claim carries a lease that its worker renews every few seconds. An item
still in flight whose lease ran out, or whose worker process is gone from this host, belonged to
a dead worker: it is re-checked rather than sent again blindly. Every call goes through
muteadmin.mutes.services, so it is rate limited and audited with the job's id like any other.
"""

import gc
import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connections, transaction
from django.db.models import Count, DateTimeField, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from muteadmin.audit.models import AuditEntry
from muteadmin.bulk.models import BulkItem, BulkJob
from muteadmin.core.sql import update_each
from muteadmin.mutes.permissions import mute_change_permitted
from muteadmin.mutes.services import (
    MuteCall,
    mute_change,
    mute_change_many,
    mute_get,
    mute_get_many,
)
from muteadmin.tencent.accounts import InvalidAccount, validate_account
from muteadmin.tencent.errors import TencentError, TencentRateLimited
from muteadmin.tencent.nospeaking import PERMANENT

logger = logging.getLogger(__name__)

# One job holds at most this many accounts; larger lists are split into several jobs.
BULK_MAX_ACCOUNTS = 100_000
# A background call may wait out longer upstream trouble than a page can.
BULK_DEADLINE = 60.0
# Threads per task, each claiming CLAIM_BATCH accounts at a time and calling for them side by
# side on a pool of CALL_THREADS. The shared rate limiter, not these, caps the calls per second:
# 24 calls in flight make up to about 400 calls/s at 50 ms of upstream latency, and while one
# batch is being recorded the other is calling. Each call thread may hold a database connection
# (the emulator answers from the database), so the pool stays small.
WORKER_THREADS = 2
CALL_THREADS = 24
# Items a thread claims per transaction; their audit rows are begun in one INSERT and completed
# in one transaction. Few enough that a crash leaves few claimed but unsent.
CLAIM_BATCH = 24
# How long a call thread waits for its siblings when the run ends, to close its connections.
CALL_THREADS_CLOSE_SECONDS = 30.0
# A job is split into this many accounts per queued task, and at most MAX_TASKS_PER_JOB tasks,
# so that several workers can share a big job while a small one costs one task.
ACCOUNTS_PER_TASK = 100
MAX_TASKS_PER_JOB = 4
ITEM_INSERT_BATCH = 2_000
HEARTBEAT_SECONDS = 5.0
# A claim not renewed for this long belongs to a dead worker (renewed every HEARTBEAT_SECONDS).
LEASE_SECONDS = 60.0
# An unfinished job nobody has touched for this long is queued again.
JOB_STALE_SECONDS = 60.0
# How often a worker with nothing left to claim looks again while others finish their calls.
WAIT_POLL_SECONDS = 1.0
# A re-checked mute may have run down by the time since the claim plus this, and still match.
RECHECK_SLACK_SECONDS = 5.0
# Calls per account, each already retried by the client; waits between them.
ITEM_ATTEMPTS = 3
ITEM_BACKOFF_SECONDS = (1.0, 4.0)
# Tencent's 70050 asks callers to pause for a minute.
RATE_LIMIT_PAUSE_CODE = 70050
RATE_LIMIT_PAUSE_SECONDS = 60.0
# A worker gives up (the job is picked up again later) after this many threads failed.
MAX_THREAD_FAILURES = 3 * WORKER_THREADS
_HOST_MAX = 40
AUTHOR_GONE = (
    "The job's author was deleted, so this account was not checked again; look it up to see "
    "whether the change went through."
)

# Worker names of the runs alive in this process, so a claim of a finished run counts as dead.
_active_workers: set[str] = set()
_active_lock = threading.Lock()

T = TypeVar("T")


class BulkWorkerError(Exception):
    """A worker's threads kept failing; the job is left to be picked up again."""


def bulk_worker_name(*, task_id: str) -> str:
    """A name unique to this run: host, process id and task, e.g. "web-1:4242:1f0c…"."""
    return f"{socket.gethostname()[:_HOST_MAX]}:{os.getpid()}:{task_id}"[:100]


def bulk_task_count(*, accounts: int) -> int:
    """How many tasks to queue for this many accounts still to do."""
    return max(1, min(MAX_TASKS_PER_JOB, math.ceil(accounts / ACCOUNTS_PER_TASK)))


def bulk_job_create(
    *,
    operator: AbstractBaseUser,
    operation: str,
    accounts: Sequence[str],
    c2c_seconds: int | None = None,
    group_seconds: int | None = None,
    reason: str = "",
) -> BulkJob:
    """Store a job and its accounts, and queue its tasks once that is committed."""
    if not operator.has_perm("bulk.run_bulk"):
        raise PermissionDenied("You may not run bulk jobs.")
    if operation == BulkJob.Operation.LOOKUP:
        c2c_seconds = group_seconds = None
        reason = ""
    elif operation == BulkJob.Operation.LIFT:
        c2c_seconds = group_seconds = 0
    elif operation == BulkJob.Operation.SET:
        if c2c_seconds is None and group_seconds is None:
            raise ValueError("Choose a new C2C or group mute, or both.")
    else:
        raise ValueError(f"Unknown bulk operation {operation!r}.")
    if operation != BulkJob.Operation.LOOKUP:
        mute_change_permitted(
            operator=operator, c2c_seconds=c2c_seconds, group_seconds=group_seconds
        )
        if not reason:
            raise ValueError("Give a reason: it is kept in the audit log.")
    if not accounts:
        raise ValueError("A job needs at least one account.")
    if len(accounts) > BULK_MAX_ACCOUNTS:
        raise ValueError(f"A job takes at most {BULK_MAX_ACCOUNTS:,} accounts.")
    if len(set(accounts)) != len(accounts):
        raise ValueError("Each account may appear once in a job.")
    for account in accounts:
        validate_account(account)

    with transaction.atomic():
        job = BulkJob.objects.create(
            operation=operation,
            c2c_seconds=c2c_seconds,
            group_seconds=group_seconds,
            reason=reason,
            created_by=operator,
            created_by_username=operator.get_username(),
            total=len(accounts),
        )
        BulkItem.objects.bulk_create(
            (
                BulkItem(job=job, position=position, account=account)
                for position, account in enumerate(accounts, 1)
            ),
            batch_size=ITEM_INSERT_BATCH,
        )
        tasks = bulk_task_count(accounts=len(accounts))
        # After the commit, so no worker looks for the job before it exists; a crash in between
        # leaves a queued job without tasks, which recovery queues again.
        transaction.on_commit(lambda: bulk_job_enqueue(job_id=job.pk, tasks=tasks))
    return job


def bulk_job_enqueue(*, job_id: int, tasks: int) -> list[str]:
    """Queue `tasks` tasks that all work on the job, and remember their ids on it."""
    from muteadmin.bulk.tasks import bulk_job_drain

    ids = [str(bulk_job_drain.enqueue(job_id=job_id).id) for _ in range(tasks)]
    with transaction.atomic():
        job = BulkJob.objects.select_for_update().filter(pk=job_id).first()
        if job is not None:
            job.task_ids = [*job.task_ids, *ids]
            job.save(update_fields=["task_ids"])
    return ids


def bulk_job_cancel(*, job: BulkJob) -> BulkJob:
    """Stop sending: a queued job ends at once, a running one when its calls in flight end."""
    now = timezone.now()
    jobs = BulkJob.objects.filter(pk=job.pk)
    # Each a single UPDATE: a worker starting the job at the same moment sees one or the other.
    if not jobs.filter(state=BulkJob.State.QUEUED).update(
        cancel_requested=True, state=BulkJob.State.CANCELLED, finished_at=now
    ):
        jobs.filter(state=BulkJob.State.RUNNING).update(cancel_requested=True)
    job.refresh_from_db()
    return job


def bulk_jobs_recover(
    *, job_id: int | None = None, exclude_job_id: int | None = None, now: datetime | None = None
) -> list[int]:
    """Queue again every unfinished job nobody has touched for JOB_STALE_SECONDS; return their ids.

    A job whose task is still waiting in the queue is left alone: it is in line, not lost.
    """
    now = now or timezone.now()
    horizon = now - timedelta(seconds=JOB_STALE_SECONDS)
    stale = BulkJob.objects.filter(state__in=[BulkJob.State.QUEUED, BulkJob.State.RUNNING]).filter(
        Q(heartbeat_at__lt=horizon) | Q(heartbeat_at__isnull=True, created_at__lt=horizon)
    )
    if job_id is not None:
        stale = stale.filter(pk=job_id)
    if exclude_job_id is not None:
        stale = stale.exclude(pk=exclude_job_id)
    recovered = []
    for job in stale.only("id", "heartbeat_at", "task_ids", "total", "done"):
        if _task_waiting(job.task_ids):
            continue
        # Whoever moves the heartbeat first queues the job; other callers see it fresh.
        same = BulkJob.objects.filter(pk=job.pk)
        if job.heartbeat_at is None:
            same = same.filter(heartbeat_at__isnull=True)
        else:
            same = same.filter(heartbeat_at=job.heartbeat_at)
        if same.update(heartbeat_at=now):
            logger.warning("Bulk job %d had no live worker; queued it again.", job.pk)
            bulk_job_enqueue(job_id=job.pk, tasks=bulk_task_count(accounts=job.total - job.done))
            recovered.append(job.pk)
    return recovered


def _task_waiting(task_ids: list[str]) -> bool:
    from django.tasks import TaskResultStatus
    from django.tasks.exceptions import TaskResultDoesNotExist

    from muteadmin.bulk.tasks import bulk_job_drain

    if not bulk_job_drain.get_backend().supports_get_result:
        return False
    for task_id in task_ids:
        try:
            result = bulk_job_drain.get_result(task_id)
        except TaskResultDoesNotExist:
            continue
        if result.status == TaskResultStatus.READY:
            return True
    return False


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
class BulkRun:
    """What one worker's run did to a job."""

    job_id: int
    worker: str
    state: str
    processed: int
    rechecked: int
    released: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def bulk_job_run(*, job_id: int, worker: str, threads: int | None = None) -> BulkRun:
    """Work through the job's accounts beside any other worker on it, until none is left to claim.

    Returns once the job is finished, or when what is left is in other live workers' hands.
    """
    runner = _Runner(job_id=job_id, worker=worker, threads=threads or WORKER_THREADS)
    with _active_lock:
        _active_workers.add(worker)
    # A collection of the whole heap stops every thread of the process, for tens of milliseconds
    # in a worker: calls then bunch up past the rate limiter's send margin and Tencent can count
    # more than the cap in a second. Collected once now, the heap is left out of collections
    # until the run ends.
    gc.collect()
    gc.freeze()
    try:
        return runner.run()
    finally:
        gc.unfreeze()
        with _active_lock:
            _active_workers.discard(worker)


@dataclass(frozen=True)
class _Claimed:
    id: int
    account: str
    claimed_at: datetime
    recheck: bool


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    c2c_observed: int | None = None
    group_observed: int | None = None
    error_code: int | None = None
    error_info: str = ""
    audit_entry_id: int | None = None


class _Runner:
    """One worker's run on a job: threads that claim, call and record, and a heartbeat."""

    def __init__(self, *, job_id: int, worker: str, threads: int) -> None:
        self.job_id = job_id
        self.worker = worker
        self.threads = threads
        self.job: BulkJob | None = None
        self.operator: AbstractBaseUser | None = None
        # Set when the job is no longer running here (finished, gone, or failing).
        self.stop = threading.Event()
        # Set once the job's cancel is seen: nothing more is claimed or sent.
        self.cancelled = threading.Event()
        self.failures: list[BaseException] = []
        self._counts_lock = threading.Lock()
        self.processed = self.rechecked = self.released = 0
        self._last_heartbeat = 0.0
        # Threads for a batch's calls; None runs them one by one in the claiming thread.
        self.calls: _CallThreads | None = None

    def run(self) -> BulkRun:
        if not self._start():
            return self._summary()
        if self.threads > 1:
            self.calls = _CallThreads(size=CALL_THREADS, name=f"bulk-{self.job_id}")
        try:
            return self._run()
        finally:
            if self.calls is not None:
                self.calls.close()

    def _run(self) -> BulkRun:
        while not self.stop.is_set():
            self._claims_of_dead_workers_expire()
            self._drain()
            if len(self.failures) > MAX_THREAD_FAILURES:
                raise BulkWorkerError(
                    f"{len(self.failures)} bulk worker threads failed on job {self.job_id}."
                ) from self.failures[0]
            if self.stop.is_set() or self._job_finish():
                break
            # What is left is in flight with other workers: wait for their calls or leases.
            if self.stop.wait(WAIT_POLL_SECONDS):
                break
            self._heartbeat()
        return self._summary()

    def _summary(self) -> BulkRun:
        state = BulkJob.objects.filter(pk=self.job_id).values_list("state", flat=True).first()
        return BulkRun(
            job_id=self.job_id,
            worker=self.worker,
            state=state or "",
            processed=self.processed,
            rechecked=self.rechecked,
            released=self.released,
        )

    def _start(self) -> bool:
        """Mark the job running, unless it is finished or gone; load it and its author."""
        now = timezone.now()
        started = BulkJob.objects.filter(
            pk=self.job_id, state__in=[BulkJob.State.QUEUED, BulkJob.State.RUNNING]
        ).update(
            state=BulkJob.State.RUNNING,
            started_at=Coalesce("started_at", Value(now, output_field=DateTimeField())),
            heartbeat_at=now,
        )
        if not started:
            return False
        self._last_heartbeat = time.monotonic()
        self.job = BulkJob.objects.select_related("created_by").get(pk=self.job_id)
        self.operator = self.job.created_by
        if self.operator is None:
            # Every call is made in the author's name; without one nothing more may be sent.
            logger.warning("Bulk job %d: its author was deleted; cancelling it.", self.job_id)
            BulkJob.objects.filter(pk=self.job_id).update(cancel_requested=True)
            self.cancelled.set()
        return True

    # Heartbeat and leases

    def _heartbeat(self) -> None:
        now = timezone.now()
        self._last_heartbeat = time.monotonic()
        try:
            BulkItem.objects.filter(
                job_id=self.job_id, state=BulkItem.State.IN_FLIGHT, claimed_by=self.worker
            ).update(lease_until=now + timedelta(seconds=LEASE_SECONDS))
            BulkJob.objects.filter(pk=self.job_id, state=BulkJob.State.RUNNING).update(
                heartbeat_at=now
            )
            # Threads learn of a cancel when they next claim; this catches it between claims.
            if BulkJob.objects.filter(pk=self.job_id, cancel_requested=True).exists():
                self.cancelled.set()
        except DatabaseError:
            # The next beat tries again; leases are long enough to miss a few.
            logger.exception("Bulk job %d: heartbeat failed.", self.job_id)

    def _heartbeat_if_due(self) -> None:
        if time.monotonic() - self._last_heartbeat >= HEARTBEAT_SECONDS:
            self._heartbeat()

    def _claims_of_dead_workers_expire(self) -> None:
        """End at once the leases of workers known to be gone, rather than wait them out."""
        holders = (
            BulkItem.objects.filter(job_id=self.job_id, state=BulkItem.State.IN_FLIGHT)
            .exclude(claimed_by__in=["", self.worker])
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
            BulkItem.objects.filter(
                job_id=self.job_id, state=BulkItem.State.IN_FLIGHT, claimed_by__in=dead
            ).update(lease_until=timezone.now())

    # Draining

    def _drain(self) -> None:
        if self.threads <= 1:
            self._drain_loop(inline=True)
            return
        threads = [
            threading.Thread(
                target=self._drain_thread, name=f"bulk-{self.job_id}-{index}", daemon=True
            )
            for index in range(self.threads)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=HEARTBEAT_SECONDS)
                self._heartbeat_if_due()

    def _drain_thread(self) -> None:
        try:
            self._drain_loop(inline=False)
        except Exception as exc:
            # The item it held was handed back (see _process_batch); another thread or run goes on.
            logger.exception("Bulk job %d: a worker thread failed.", self.job_id)
            with self._counts_lock:
                self.failures.append(exc)
        finally:
            connections.close_all()

    def _drain_loop(self, *, inline: bool) -> None:
        while not self.stop.is_set():
            batch = self._claim()
            if not batch:
                return
            self._process_batch(batch, inline=inline)

    def _claim(self) -> list[_Claimed]:
        """Claim a few items, abandoned in-flight ones first; committed before any is sent."""
        now = timezone.now()
        with transaction.atomic():
            job = BulkJob.objects.filter(pk=self.job_id).values("state", "cancel_requested").first()
            if job is None or job["state"] != BulkJob.State.RUNNING:
                self.stop.set()
                return []
            if job["cancel_requested"]:
                self.cancelled.set()
            items = BulkItem.objects.filter(job_id=self.job_id).order_by("position")
            fields = ("id", "account", "claimed_at")
            # Abandoned calls are settled even after a cancel: they may have gone through.
            abandoned = list(
                _lockable(items.filter(state=BulkItem.State.IN_FLIGHT, lease_until__lt=now)).values(
                    *fields
                )[:CLAIM_BATCH]
            )
            fresh = []
            if not self.cancelled.is_set() and len(abandoned) < CLAIM_BATCH:
                fresh = list(
                    _lockable(items.filter(state=BulkItem.State.TODO)).values(*fields)[
                        : CLAIM_BATCH - len(abandoned)
                    ]
                )
            rows = abandoned + fresh
            if not rows:
                return []
            BulkItem.objects.filter(id__in=[row["id"] for row in rows]).update(
                state=BulkItem.State.IN_FLIGHT,
                claimed_by=self.worker,
                # The first claim's time is kept: it bounds when the call may have been sent.
                claimed_at=Coalesce("claimed_at", Value(now, output_field=DateTimeField())),
                lease_until=now + timedelta(seconds=LEASE_SECONDS),
            )
        abandoned_ids = {row["id"] for row in abandoned}
        return [
            _Claimed(
                id=row["id"],
                account=row["account"],
                claimed_at=row["claimed_at"] or now,
                recheck=row["id"] in abandoned_ids,
            )
            for row in rows
        ]

    def _process_batch(self, batch: list[_Claimed], *, inline: bool) -> None:
        """Settle the re-checks one by one, call for the rest side by side, record it all."""
        rechecks = [item for item in batch if item.recheck]
        fresh = [item for item in batch if not item.recheck]
        outcomes: list[tuple[_Claimed, _Outcome]] = []
        try:
            for index, item in enumerate(rechecks):
                if inline:
                    # Without a main thread beating for it, the run beats between its calls.
                    self._heartbeat_if_due()
                if self.stop.is_set() or self.cancelled.is_set():
                    self._release([*rechecks[index:], *fresh])
                    return
                try:
                    outcomes.append((item, self._outcome(item)))
                except BaseException:
                    # Whether the call left is unknown: whoever claims it next re-checks it.
                    self._abandon(item)
                    self._release([*rechecks[index + 1 :], *fresh])
                    raise
            if fresh:
                if inline:
                    self._heartbeat_if_due()
                self._calls_together(fresh, outcomes)
        finally:
            if outcomes:
                self._record(outcomes)

    def _calls_together(
        self, items: list[_Claimed], outcomes: list[tuple[_Claimed, _Outcome]]
    ) -> None:
        """Call for the items side by side; try again, after a pause, those a later try may pass.

        Each settled item is appended to `outcomes` as soon as it is known.
        """
        todo = items
        last: dict[int, _Outcome] = {}
        for attempt in range(1, ITEM_ATTEMPTS + 1):
            if self.stop.is_set() or self.cancelled.is_set():
                if attempt == 1:
                    self._release(todo)
                else:
                    # Sent and failed: the last failure stands.
                    outcomes.extend((item, last[item.id]) for item in todo)
                return
            try:
                calls = self._calls(todo)
            except PermissionDenied as exc:
                # The author may no longer do this: nothing was sent.
                outcomes.extend((item, _Outcome(ok=False, error_info=str(exc))) for item in todo)
                return
            except BaseException:
                self._abandon_all(todo)
                raise
            retry: list[_Claimed] = []
            faults: list[Exception] = []
            labels: set[str] = set()
            delay = 0.0
            for item, call in zip(todo, calls, strict=True):
                error = call.error
                if error is None:
                    outcomes.append((item, self._call_outcome(call)))
                    continue
                if not isinstance(error, TencentError | PermissionDenied | InvalidAccount):
                    faults.append(error)
                    self._abandon(item)
                    continue
                last[item.id] = _failed(error, audit_entry_id=call.entry_id)
                pause = _retry_pause(error, attempt=attempt)
                if pause is None:
                    outcomes.append((item, last[item.id]))
                else:
                    retry.append(item)
                    labels.add(error.code_label)
                    delay = max(delay, pause)
            if faults:
                # A fault on our side (recorded on its audit row): those are re-checked later.
                self._abandon_all(retry)
                raise faults[0]
            if not retry:
                return
            logger.warning(
                "Bulk job %d: %d accounts failed (%s); trying them again in %.0f s.",
                self.job_id,
                len(retry),
                ", ".join(sorted(labels)),
                delay,
            )
            if self.stop.wait(delay):
                outcomes.extend((item, last[item.id]) for item in retry)
                return
            todo = retry

    def _calls(self, items: list[_Claimed]) -> list[MuteCall]:
        job = self.job
        common = {
            "accounts": [item.account for item in items],
            "operator": self.operator,
            "deadline": BULK_DEADLINE,
            "job_id": job.pk,
            "executor": self.calls.executor if self.calls is not None else None,
        }
        if job.operation == BulkJob.Operation.LOOKUP:
            return mute_get_many(**common)
        return mute_change_many(
            **common,
            reason=job.reason,
            c2c_seconds=job.c2c_seconds,
            group_seconds=job.group_seconds,
        )

    def _call_outcome(self, call: MuteCall) -> _Outcome:
        if call.status is not None:
            observed = (call.status.c2c_seconds, call.status.group_seconds)
        else:
            observed = (call.change.c2c_after, call.change.group_after)
        return _Outcome(
            ok=True,
            c2c_observed=observed[0],
            group_observed=observed[1],
            audit_entry_id=call.entry_id,
        )

    def _release(self, items: list[_Claimed]) -> None:
        """Hand back claimed items never sent (no call was made for them), as not sent."""
        fresh = [item.id for item in items if not item.recheck]
        if fresh:
            released = BulkItem.objects.filter(
                id__in=fresh, state=BulkItem.State.IN_FLIGHT, claimed_by=self.worker
            ).update(state=BulkItem.State.TODO, claimed_by="", claimed_at=None, lease_until=None)
            with self._counts_lock:
                self.released += released
        self._abandon_all([item for item in items if item.recheck])

    def _abandon(self, item: _Claimed) -> None:
        self._abandon_all([item])

    def _abandon_all(self, items: list[_Claimed]) -> None:
        if not items:
            return
        try:
            BulkItem.objects.filter(
                id__in=[item.id for item in items],
                state=BulkItem.State.IN_FLIGHT,
                claimed_by=self.worker,
            ).update(claimed_by="", lease_until=timezone.now())
        except DatabaseError:
            # The lease runs out by itself once this worker stops renewing it.
            logger.exception("Bulk job %d: could not hand back claimed items.", self.job_id)

    # One account

    def _outcome(self, item: _Claimed) -> _Outcome:
        job = self.job
        if item.recheck:
            with self._counts_lock:
                self.rechecked += 1
        if self.operator is None:
            return _Outcome(ok=False, error_info=AUTHOR_GONE)
        try:
            if job.operation == BulkJob.Operation.LOOKUP:
                status = self._retrying(
                    lambda: mute_get(
                        account=item.account,
                        operator=self.operator,
                        deadline=BULK_DEADLINE,
                        job_id=job.pk,
                    )
                )
                return _Outcome(
                    ok=True, c2c_observed=status.c2c_seconds, group_observed=status.group_seconds
                )
            if item.recheck:
                settled = self._recheck(item)
                if settled is not None:
                    return settled
            change = self._retrying(
                lambda: mute_change(
                    account=item.account,
                    operator=self.operator,
                    reason=job.reason,
                    c2c_seconds=job.c2c_seconds,
                    group_seconds=job.group_seconds,
                    job_id=job.pk,
                    deadline=BULK_DEADLINE,
                    query_before=False,
                )
            )
            return _Outcome(
                ok=True, c2c_observed=change.c2c_after, group_observed=change.group_after
            )
        except (TencentError, PermissionDenied, InvalidAccount) as exc:
            return _failed(exc)

    def _recheck(self, item: _Claimed) -> _Outcome | None:
        """Settle a change a dead worker may have sent; None when it must be sent (again)."""
        job = self.job
        changes = AuditEntry.objects.filter(
            job_id=job.pk, account=item.account, action=AuditEntry.Action.CHANGE
        ).order_by("-id")
        done = changes.filter(outcome=AuditEntry.Outcome.OK).values(
            "id", "c2c_observed", "group_observed"
        )
        if entry := done.first():
            # Tencent accepted it and the audit row says so; only the item was not updated.
            return _Outcome(
                ok=True,
                c2c_observed=entry["c2c_observed"],
                group_observed=entry["group_observed"],
                audit_entry_id=entry["id"],
            )
        if not changes.exists():
            # Every call's audit row is committed before the call: this one never left.
            return None
        status = self._retrying(
            lambda: mute_get(
                account=item.account,
                operator=self.operator,
                deadline=BULK_DEADLINE,
                job_id=job.pk,
            )
        )
        elapsed = (status.observed_at - item.claimed_at).total_seconds()
        if mute_state_matches(
            requested=job.c2c_seconds, observed=status.c2c_seconds, elapsed=elapsed
        ) and mute_state_matches(
            requested=job.group_seconds, observed=status.group_seconds, elapsed=elapsed
        ):
            return _Outcome(
                ok=True, c2c_observed=status.c2c_seconds, group_observed=status.group_seconds
            )
        return None

    def _retrying(self, call: Callable[[], T]) -> T:
        """Make the call, again after a pause when the failure is one a later try may not meet."""
        for attempt in range(1, ITEM_ATTEMPTS + 1):
            try:
                return call()
            except TencentError as exc:
                delay = _retry_pause(exc, attempt=attempt)
                if delay is None:
                    raise
                logger.warning(
                    "Bulk job %d: %s; trying again in %.0f s.", self.job_id, exc.code_label, delay
                )
                if self.stop.wait(delay):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _record(self, outcomes: list[tuple[_Claimed, _Outcome]]) -> None:
        """Finish the items and count them in one transaction, skipping any another worker took.

        Should this worker die before it commits, the items are re-checked: a lookup is asked
        again, and a change is settled from its audit row without another call.
        """
        unknown = [item.account for item, outcome in outcomes if outcome.audit_entry_id is None]
        entries = self._last_entry_ids(unknown) if unknown else {}
        now = timezone.now()
        finished: dict[bool, list[tuple]] = {True: [], False: []}
        for item, outcome in outcomes:
            finished[outcome.ok].append(
                (
                    BulkItem.State.OK if outcome.ok else BulkItem.State.ERROR,
                    now,
                    None,
                    outcome.error_code,
                    outcome.error_info,
                    outcome.c2c_observed,
                    outcome.group_observed,
                    outcome.audit_entry_id or entries.get(item.account),
                    item.id,
                )
            )
        mine = {"state": BulkItem.State.IN_FLIGHT, "claimed_by": self.worker}
        with transaction.atomic():
            ok, errors = (
                update_each(BulkItem, _FINISHED_FIELDS, finished[success], where=mine)
                for success in (True, False)
            )
            if ok or errors:
                BulkJob.objects.filter(pk=self.job_id).update(
                    done=F("done") + ok + errors, ok=F("ok") + ok, errors=F("errors") + errors
                )
        with self._counts_lock:
            self.processed += len(outcomes)

    def _last_entry_ids(self, accounts: list[str]) -> dict[str, int]:
        """Each account's latest audit row in this job: the call that settled it."""
        latest: dict[str, int] = {}
        rows = AuditEntry.objects.filter(job_id=self.job_id, account__in=accounts).values_list(
            "account", "id"
        )
        for account, entry_id in rows.order_by("id"):
            latest[account] = entry_id
        return latest

    # Finishing

    def _job_finish(self) -> bool:
        """Close the job if nothing is left in flight (or to send); True when it is over here."""
        with transaction.atomic():
            job = BulkJob.objects.select_for_update().filter(pk=self.job_id).first()
            if job is None or job.state != BulkJob.State.RUNNING:
                return True
            items = BulkItem.objects.filter(job_id=self.job_id)
            if items.filter(state=BulkItem.State.IN_FLIGHT).exists():
                return False
            unsent = items.filter(state=BulkItem.State.TODO).exists()
            if unsent and not job.cancel_requested:
                return False
            counts = items.aggregate(
                ok=Count("id", filter=Q(state=BulkItem.State.OK)),
                errors=Count("id", filter=Q(state=BulkItem.State.ERROR)),
            )
            job.state = BulkJob.State.CANCELLED if unsent else BulkJob.State.DONE
            job.finished_at = timezone.now()
            # Recounted from the items, which are the truth; the running counters should agree.
            job.ok, job.errors = counts["ok"], counts["errors"]
            job.done = job.ok + job.errors
            job.save(update_fields=["state", "finished_at", "ok", "errors", "done"])
        self.stop.set()
        return True


def mute_state_matches(*, requested: int | None, observed: int, elapsed: float) -> bool:
    """Whether a mute seen `elapsed` seconds after a change was asked for is what it asked.

    A length then has between requested - elapsed - slack and requested seconds left;
    permanent and lifted (0) must be exactly that; a mute not asked for (None) always matches.
    """
    if requested is None:
        return True
    if requested in (0, PERMANENT):
        return observed == requested
    return requested - elapsed - RECHECK_SLACK_SECONDS <= observed <= requested


_FINISHED_FIELDS = (
    "state",
    "finished_at",
    "lease_until",
    "error_code",
    "error_info",
    "c2c_observed",
    "group_observed",
    "audit_entry_id",
)


def _retry_pause(exc: Exception, *, attempt: int) -> float | None:
    """Seconds to wait before trying an account again after `exc`; None: it has failed for good."""
    if attempt >= ITEM_ATTEMPTS or not isinstance(exc, TencentError):
        return None
    if not (exc.retryable or isinstance(exc, TencentRateLimited)):
        return None
    if exc.error_code == RATE_LIMIT_PAUSE_CODE:
        return RATE_LIMIT_PAUSE_SECONDS
    return ITEM_BACKOFF_SECONDS[min(attempt, len(ITEM_BACKOFF_SECONDS)) - 1]


def _failed(exc: Exception, *, audit_entry_id: int | None = None) -> _Outcome:
    """An account that failed with `exc`: Tencent's code and words, or why it was not sent."""
    if isinstance(exc, TencentError):
        return _Outcome(
            ok=False,
            error_code=exc.error_code,
            error_info=exc.error_info or exc.moderator_message,
            audit_entry_id=audit_entry_id,
        )
    return _Outcome(ok=False, error_info=str(exc), audit_entry_id=audit_entry_id)


class _CallThreads:
    """A pool of threads for a run's calls; closing it closes their database connections too.

    The emulator answers from the database, so a call thread may hold a connection of its own.
    """

    def __init__(self, *, size: int, name: str) -> None:
        self._started = 0
        self._lock = threading.Lock()
        self.executor = ThreadPoolExecutor(
            max_workers=size, thread_name_prefix=name, initializer=self._count
        )

    def _count(self) -> None:
        with self._lock:
            self._started += 1

    def close(self) -> None:
        # One task per thread: each waits at the barrier until every thread holds one.
        with self._lock:
            started = self._started
        if started:
            barrier = threading.Barrier(started)
            for _ in range(started):
                self.executor.submit(_connections_close, barrier)
        self.executor.shutdown(wait=True)


def _connections_close(barrier: threading.Barrier) -> None:
    try:
        barrier.wait(timeout=CALL_THREADS_CLOSE_SECONDS)
    except threading.BrokenBarrierError:
        pass
    finally:
        connections.close_all()


def _lockable(items: QuerySet[BulkItem]) -> QuerySet[BulkItem]:
    """Rows another worker is claiming are skipped, not waited for, where the database can."""
    return items.select_for_update(skip_locked=True)
