"""Running the periodic jobs: one tick task at a time re-queues itself, and runs what is due.

The worker (`manage.py db_worker`, django.tasks) has no scheduler, so a tick task queues its
successor to run PERIODIC_TICK_SECONDS later (the Tasks API's `run_after`), then runs every
registered job that is due. PeriodicTicker names the current tick; a tick that is not current
(queued twice, or replaced after its worker died) ends without a successor, so the chain never
multiplies. `periodic_ensure` starts a tick when none is alive: after migrate, when a worker
starts, and from `manage.py periodic_start`.
"""

import logging
from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.utils import timezone

from muteadmin.periodic.models import PeriodicJob, PeriodicTicker
from muteadmin.periodic.registry import PeriodicSpec, periodic_specs

logger = logging.getLogger(__name__)

TICKER_ID = 1
# A tick waiting in the queue is alive; a running one only this long after its beat (past
# that, its worker died before queuing a successor).
TICK_STALE_AFTER = timedelta(seconds=120)

WAITING, RUNNING = "waiting", "running"


class TickQueue(Protocol):
    """Where tick tasks wait for a worker (muteadmin.periodic.tasks.tick_queue)."""

    def enqueue(self, *, run_after: datetime | None) -> str:
        """Queue one tick, to run no earlier than `run_after` (None: now); return its id."""

    def state(self, task_id: str) -> str | None:
        """WAITING, RUNNING, or None for a tick that is over or unknown."""


def periodic_tick_seconds() -> float:
    """How often a tick runs, so how late past its interval a job can start."""
    return float(settings.PERIODIC_TICK_SECONDS)


def periodic_ensure(*, queue: TickQueue, now: datetime | None = None) -> str | None:
    """Queue a tick unless one is alive; return the new tick's id, or None if none was needed."""
    now = now or timezone.now()
    ticker, _ = PeriodicTicker.objects.get_or_create(pk=TICKER_ID)
    if ticker.task_id and _alive(ticker, queue=queue, now=now):
        return None
    task_id = queue.enqueue(run_after=None)
    # Conditional on the tick read: if another process replaced it meanwhile, ours is not
    # current and ends without a successor when it runs.
    replaced = PeriodicTicker.objects.filter(pk=TICKER_ID, task_id=ticker.task_id).update(
        task_id=task_id, beat_at=now
    )
    if not replaced:
        return None
    if ticker.task_id:
        logger.warning("The periodic tick %s was not alive; queued %s.", ticker.task_id, task_id)
    return task_id


def _alive(ticker: PeriodicTicker, *, queue: TickQueue, now: datetime) -> bool:
    state = queue.state(ticker.task_id)
    if state == WAITING:
        return True
    return (
        state == RUNNING and ticker.beat_at is not None and now - ticker.beat_at < TICK_STALE_AFTER
    )


def periodic_tick(*, task_id: str, queue: TickQueue, now: datetime | None = None) -> dict:
    """One tick: queue the next one, then run the jobs that are due. Does nothing if not current.

    The successor is queued first, so a job that crashes the worker does not end the chain.
    """
    now = now or timezone.now()
    current = PeriodicTicker.objects.filter(pk=TICKER_ID, task_id=task_id)
    if not current.exists():
        return {"current": False, "ran": []}
    successor = queue.enqueue(run_after=now + timedelta(seconds=periodic_tick_seconds()))
    if not current.update(task_id=successor, beat_at=now):
        return {"current": False, "ran": []}
    return {"current": True, "next": successor, "ran": periodic_run_due(now=now)}


def periodic_run_due(*, now: datetime | None = None) -> list[str]:
    """Run every registered job whose time has come, each claimed by one worker only.

    A job's next run is counted from when this one started, so a worker that was down does
    not run a job several times to catch up. A job that raises is logged and recorded on its
    row; the others still run.
    """
    now = now or timezone.now()
    ran = []
    for spec in periodic_specs():
        if _claimed(spec, now=now):
            _run(spec)
            ran.append(spec.name)
    return ran


def _claimed(spec: PeriodicSpec, *, now: datetime) -> bool:
    job, _ = PeriodicJob.objects.get_or_create(name=spec.name, defaults={"next_run": now})
    if job.next_run > now:
        return False
    return bool(
        PeriodicJob.objects.filter(pk=job.pk, next_run=job.next_run).update(
            next_run=now + timedelta(seconds=spec.every), last_started_at=now
        )
    )


def _run(spec: PeriodicSpec) -> None:
    error = ""
    try:
        spec.run()
    except Exception as exc:  # one job's failure must not stop the others or the chain
        logger.exception("Periodic job %s failed.", spec.name)
        error = f"{type(exc).__name__}: {exc}"
    PeriodicJob.objects.filter(name=spec.name).update(
        last_finished_at=timezone.now(), last_error=error
    )
