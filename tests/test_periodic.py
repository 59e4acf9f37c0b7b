"""Periodic jobs: each runs once per interval whoever looks; one chain of ticks keeps them going."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from muteadmin.periodic.models import PeriodicJob, PeriodicTicker
from muteadmin.periodic.registry import periodic_register, periodic_specs, periodic_unregister
from muteadmin.periodic.services import (
    periodic_ensure,
    periodic_run_due,
    periodic_tick,
    periodic_tick_seconds,
)
from muteadmin.periodic.tasks import periodic_tick_task, tick_queue

pytestmark = pytest.mark.django_db

TICK_TASK = "muteadmin.periodic.tasks.periodic_tick_task"


@pytest.fixture
def runs(clock):
    """A job registered for the test, every 60 s; the list of the times it ran."""
    clock.set(timezone.now())
    times: list = []
    periodic_register(name="test_job", every=60, run=lambda: times.append(timezone.now()))
    yield times
    periodic_unregister(name="test_job")


def due(clock, *, after: float = 0) -> list[str]:
    clock.advance(after)
    with clock.freeze_django():
        return periodic_run_due()


def ticks(**filters) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=TICK_TASK, **filters).order_by("enqueued_at"))


def test_the_sweeper_is_registered_every_minute():
    (sweeper,) = [spec for spec in periodic_specs() if spec.name == "audit_sweep_pending"]
    assert sweeper.every == 60


def test_a_due_job_runs_once_per_interval(clock, runs):
    assert "test_job" in due(clock)
    assert "test_job" not in due(clock, after=30)
    assert "test_job" not in due(clock, after=29)
    assert "test_job" in due(clock, after=1)
    assert len(runs) == 2
    job = PeriodicJob.objects.get(name="test_job")
    assert job.next_run == clock() + timedelta(seconds=60)
    assert (job.last_finished_at is not None, job.last_error) == (True, "")


def test_a_worker_that_was_down_runs_a_job_once_not_once_per_missed_interval(clock, runs):
    due(clock)
    assert "test_job" in due(clock, after=3600)
    assert "test_job" not in due(clock, after=1)
    assert len(runs) == 2


def test_a_second_worker_looking_during_a_run_does_not_run_it_again(clock):
    clock.set(timezone.now())
    nested: list[list[str]] = []

    def run() -> None:
        # Another worker's tick at the same moment, while this run is under way.
        nested.append(periodic_run_due(now=clock()))

    periodic_register(name="test_slow", every=60, run=run)
    try:
        assert "test_slow" in due(clock)
    finally:
        periodic_unregister(name="test_slow")
    assert len(nested) == 1 and "test_slow" not in nested[0]


def test_a_failing_job_is_recorded_and_the_others_still_run(clock, runs):
    def broken() -> None:
        raise RuntimeError("the database went away")

    periodic_register(name="a_broken", every=60, run=broken)
    try:
        ran = due(clock)
    finally:
        periodic_unregister(name="a_broken")
    assert {"a_broken", "test_job"} <= set(ran) and len(runs) == 1
    job = PeriodicJob.objects.get(name="a_broken")
    assert job.last_error == "RuntimeError: the database went away"


def test_starting_queues_one_tick_however_often_it_is_asked(clock):
    first = periodic_ensure(queue=tick_queue)
    assert first is not None
    assert periodic_ensure(queue=tick_queue) is None
    out = io.StringIO()
    call_command("periodic_start", stdout=out)
    assert "already queued or running" in out.getvalue()
    assert [str(task.id) for task in ticks()] == [first]
    assert PeriodicTicker.objects.get().task_id == first


def test_a_tick_queues_its_successor_for_later_then_runs_what_is_due(clock, runs):
    first = periodic_ensure(queue=tick_queue)
    with clock.freeze_django():
        result = periodic_tick(task_id=first, queue=tick_queue)
    assert result["current"] and "test_job" in result["ran"] and len(runs) == 1
    successor = DBTaskResult.objects.get(id=result["next"])
    assert successor.run_after == clock() + timedelta(seconds=periodic_tick_seconds())
    assert PeriodicTicker.objects.get().task_id == result["next"]
    # The successor waiting in the queue counts as alive: nothing more is queued.
    assert periodic_ensure(queue=tick_queue) is None


def test_a_tick_that_is_not_current_ends_without_a_successor(clock, runs):
    periodic_ensure(queue=tick_queue)
    stray = str(periodic_tick_task.enqueue().id)
    result = periodic_tick(task_id=stray, queue=tick_queue)
    assert result == {"current": False, "ran": []}
    assert runs == [] and len(ticks()) == 2


def test_a_tick_whose_worker_died_is_replaced(clock):
    clock.set(timezone.now())
    with clock.freeze_django():
        dead = periodic_ensure(queue=tick_queue)
    DBTaskResult.objects.filter(id=dead).update(status=TaskResultStatus.RUNNING)
    clock.advance(60)
    with clock.freeze_django():
        # Running, and recently beaten: alive.
        assert periodic_ensure(queue=tick_queue) is None
    clock.advance(120)
    with clock.freeze_django():
        fresh = periodic_ensure(queue=tick_queue)
    assert fresh not in (None, dead)
    assert PeriodicTicker.objects.get().task_id == fresh
    # The dead tick, should it ever run, is not current: it ends without a successor.
    assert periodic_tick(task_id=dead, queue=tick_queue)["current"] is False


def test_a_finished_tick_without_a_successor_is_replaced(clock):
    gone = periodic_ensure(queue=tick_queue)
    DBTaskResult.objects.filter(id=gone).update(status=TaskResultStatus.FAILED)
    assert periodic_ensure(queue=tick_queue) not in (None, gone)


# Committed, as a worker sees it.
@pytest.mark.django_db(transaction=True)
def test_the_worker_starts_the_tick_and_runs_the_due_jobs(runs):
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")
    done = ticks(status=TaskResultStatus.SUCCESSFUL)
    assert len(done) == 1 and "test_job" in done[0].return_value["ran"]
    assert len(runs) == 1
    assert PeriodicJob.objects.get(name="audit_sweep_pending").last_finished_at is not None
    # The next tick waits its turn; the batch worker stopped without it.
    (waiting,) = ticks(status=TaskResultStatus.READY)
    assert waiting.run_after > timezone.now()
    assert PeriodicTicker.objects.get().task_id == str(waiting.id)
