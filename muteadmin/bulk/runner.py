"""Running a job's accounts: claim a few, call for them side by side, record, until none is left.

Exactly once, across crashes: see muteadmin.bulk.leases. Every call goes through
muteadmin.mutes.services, so it is rate limited and audited with the job's id like any other; the
client retries inside a call, and an account whose call still failed with something a later try
may not meet is put back for later (muteadmin.bulk.outcomes), not retried here.
"""

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connections
from django.db.models import DateTimeField, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from muteadmin.bulk.call_threads import CallThreads
from muteadmin.bulk.calls import JobCalls, Upstream
from muteadmin.bulk.leases import LEASE_SECONDS, Claimed, Heartbeat, Leases, worker_alive
from muteadmin.bulk.models import BulkJob
from muteadmin.bulk.outcomes import Outcome, job_finish, outcomes_record
from muteadmin.core import metrics
from muteadmin.tencent.retry import PAUSE_CODE

logger = logging.getLogger(__name__)


class BulkWorkerError(Exception):
    """A worker's threads kept failing; the job is left to be picked up again."""


@dataclass(frozen=True)
class RunnerConfig:
    """How a worker runs a job.

    `threads` each claim `claim_batch` accounts at a time and call for them side by side on a pool
    of `call_threads`. The shared rate limiter, not these, caps the calls per second: 24 calls in
    flight make up to about 400 calls/s at 50 ms of upstream latency, and while one batch is being
    recorded the other is calling. Each call thread may hold a database connection (the emulator
    answers from the database), so the pool stays small. With one thread everything runs in the
    caller's thread, one call after another.
    """

    threads: int = 2
    call_threads: int = 24
    # Few enough that a crash leaves few claimed but unsent.
    claim_batch: int = 24
    heartbeat_seconds: float = 5.0
    lease_seconds: float = LEASE_SECONDS
    # How often a worker with nothing to claim looks again while others finish their calls, or
    # accounts put back for later come due.
    poll_seconds: float = 1.0
    # A background call may wait out longer upstream trouble than a page can.
    deadline: float = 60.0
    clock: Callable[[], datetime] = timezone.now
    sleep: Callable[[float], None] = time.sleep
    upstream: Upstream = field(default_factory=Upstream)

    @property
    def max_failures(self) -> int:
        """A worker gives up (the job is picked up again later) after this many thread failures."""
        return 3 * self.threads


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


def bulk_job_run(
    *, job_id: int, worker: str, config: RunnerConfig | None = None, leases: Leases | None = None
) -> BulkRun:
    """Work through the job's accounts beside any other worker on it, until none is left to claim.

    Returns once the job is finished, or when what is left is in other live workers' hands.
    """
    config = config or RunnerConfig()
    leases = leases or Leases(
        job_id=job_id, worker=worker, clock=config.clock, lease_seconds=config.lease_seconds
    )
    with worker_alive(worker), _heap_frozen():
        return _Runner(job_id=job_id, worker=worker, config=config, leases=leases).run()


@contextmanager
def _heap_frozen() -> Iterator[None]:
    # A collection of the whole heap stops every thread of the process, for tens of milliseconds
    # in a worker: calls then bunch up past the rate limiter's send margin and Tencent can count
    # more than the cap in a second. Collected once now, the heap is left out of collections
    # until the run ends.
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class _Runner:
    """One worker's run on a job: lanes that claim, call and record, and a heartbeat."""

    def __init__(self, *, job_id: int, worker: str, config: RunnerConfig, leases: Leases) -> None:
        self.job_id = job_id
        self.worker = worker
        self.config = config
        self.leases = leases
        self.job: BulkJob | None = None
        self.operator: AbstractBaseUser | None = None
        # Set when the job is no longer running here (finished or gone).
        self.stop = threading.Event()
        # Set once the job's cancel is seen: nothing more is claimed or sent.
        self.cancelled = threading.Event()
        self.heartbeat = Heartbeat(
            leases=leases,
            seconds=config.heartbeat_seconds,
            clock=config.clock,
            cancel=self.cancelled,
        )
        self.failures: list[BaseException] = []
        self._counts_lock = threading.Lock()
        self.processed = self.rechecked = self.released = 0
        # Tencent's pause code asks the whole app to wait: nothing new is sent until then.
        self.paused_until = config.clock()
        # Threads for a batch's calls; None runs them one by one in the lane's thread.
        self.pool: CallThreads | None = None
        self.calls: JobCalls | None = None

    def run(self) -> BulkRun:
        if not self._start():
            return self._summary()
        if self.config.threads > 1:
            self.pool = CallThreads(size=self.config.call_threads, name=f"bulk-{self.job_id}")
        self.calls = JobCalls(
            job=self.job,
            operator=self.operator,
            upstream=self.config.upstream,
            deadline=self.config.deadline,
            executor=self.pool.executor if self.pool is not None else None,
            leases=self.leases,
            stopping=lambda: self.cancelled.is_set() or self.stop.is_set(),
        )
        try:
            self._loop()
        finally:
            if self.pool is not None:
                self.pool.close()
        return self._summary()

    def _loop(self) -> None:
        while not self.stop.is_set():
            self.leases.expire_dead()
            self._drain()
            if len(self.failures) > self.config.max_failures:
                raise BulkWorkerError(
                    f"{len(self.failures)} bulk worker threads failed on job {self.job_id}."
                ) from self.failures[0]
            if self.stop.is_set() or job_finish(job_id=self.job_id, now=self.config.clock()):
                return
            # What is left is in flight with other workers, or put back for later: wait for it.
            self.config.sleep(self.config.poll_seconds)
            self.heartbeat.beat()

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
        now = self.config.clock()
        started = BulkJob.objects.filter(
            pk=self.job_id, state__in=[BulkJob.State.QUEUED, BulkJob.State.RUNNING]
        ).update(
            state=BulkJob.State.RUNNING,
            started_at=Coalesce("started_at", Value(now, output_field=DateTimeField())),
            heartbeat_at=now,
        )
        if not started:
            return False
        self.job = BulkJob.objects.select_related("created_by").get(pk=self.job_id)
        self.operator = self.job.created_by
        if self.operator is None:
            # Every call is made in the author's name; without one nothing more may be sent.
            logger.warning("Bulk job %d: its author was deleted; cancelling it.", self.job_id)
            BulkJob.objects.filter(pk=self.job_id).update(cancel_requested=True)
            self.cancelled.set()
        return True

    # Lanes

    def _drain(self) -> None:
        if self.config.threads <= 1:
            self._lane()
            return
        lanes = [
            threading.Thread(target=self._lane_thread, name=f"bulk-{self.job_id}-{index}")
            for index in range(self.config.threads)
        ]
        for lane in lanes:
            lane.start()
        for lane in lanes:
            while lane.is_alive():
                # A lane may wait long on its calls; the leases are renewed meanwhile.
                lane.join(timeout=self.config.heartbeat_seconds)
                self.heartbeat.beat_if_due()

    def _lane_thread(self) -> None:
        try:
            self._lane()
        except Exception as exc:
            # The items it held were handed back (see _batch); another lane or run goes on.
            logger.exception("Bulk job %d: a worker thread failed.", self.job_id)
            with self._counts_lock:
                self.failures.append(exc)
        finally:
            connections.close_all()

    def _lane(self) -> None:
        while not self.stop.is_set():
            fresh = not self.cancelled.is_set() and self.config.clock() >= self.paused_until
            claim = self.leases.claim(size=self.config.claim_batch, fresh=fresh)
            if not claim.running:
                self.stop.set()
                return
            if claim.cancel_requested:
                self.cancelled.set()
            if not claim.items:
                return
            self._batch(claim.items)

    def _batch(self, batch: list[Claimed]) -> None:
        """Settle the re-checks one by one, call for the rest side by side, record it all."""
        rechecks = [item for item in batch if item.recheck]
        fresh = [item for item in batch if not item.recheck]
        outcomes: list[tuple[Claimed, Outcome]] = []
        try:
            for index, item in enumerate(rechecks):
                self.heartbeat.beat_if_due()
                if self.stop.is_set():
                    self._release([*rechecks[index:], *fresh])
                    return
                with self._counts_lock:
                    self.rechecked += 1
                try:
                    outcomes.append((item, self.calls.recheck(item)))
                except BaseException:
                    # Whether the call left is unknown: whoever claims it next re-checks it.
                    self.leases.abandon([item])
                    self._release([*rechecks[index + 1 :], *fresh])
                    raise
            self.heartbeat.beat_if_due()
            if self.stop.is_set() or self.cancelled.is_set():
                self._release(fresh)
            elif fresh:
                self.calls.send(fresh, outcomes)
        finally:
            if outcomes:
                self._record(outcomes)

    def _release(self, items: list[Claimed]) -> None:
        released = self.leases.release(items)
        with self._counts_lock:
            self.released += released

    def _record(self, outcomes: list[tuple[Claimed, Outcome]]) -> None:
        now = self.config.clock()
        later = [outcome for _, outcome in outcomes if outcome.retry_after is not None]
        pauses = [o.retry_after for o in later if o.error_code == PAUSE_CODE]
        if pauses:
            with self._counts_lock:
                self.paused_until = max(self.paused_until, now + timedelta(seconds=max(pauses)))
        if later:
            logger.warning(
                "Bulk job %d: %d accounts failed for now; trying them again later.",
                self.job_id,
                len(later),
            )
        outcomes_record(job_id=self.job_id, worker=self.worker, outcomes=outcomes, now=now)
        finished = [outcome for _, outcome in outcomes if outcome.retry_after is None]
        ok = sum(outcome.ok for outcome in finished)
        metrics.bulk_items.labels(outcome="ok").inc(ok)
        metrics.bulk_items.labels(outcome="error").inc(len(finished) - ok)
        with self._counts_lock:
            self.processed += len(outcomes) - len(later)
