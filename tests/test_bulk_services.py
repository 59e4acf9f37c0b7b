"""Running bulk jobs in-process: progress, audit rows, reschedules, cancel, re-checks, recovery."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from operator import itemgetter

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_begin
from muteadmin.bulk.leases import Leases, worker_gone
from muteadmin.bulk.models import BulkItem, BulkJob
from muteadmin.bulk.rechecks import mute_state_matches
from muteadmin.bulk.runner import BulkRun, RunnerConfig, Upstream, bulk_job_run
from muteadmin.bulk.services import bulk_job_cancel, bulk_jobs_recover
from muteadmin.bulk.tasks import task_queue
from muteadmin.mutes.services import mute_get_many
from muteadmin.sandbox.services import sandbox_fault_push
from muteadmin.tencent.nospeaking import PERMANENT, nospeaking_get, nospeaking_set
from muteadmin.upstream.clients import tim_client
from tests.conftest import FakeClock, bulk_job

pytestmark = pytest.mark.django_db

HOST = socket.gethostname()


def run_clock() -> FakeClock:
    """A run's time: it starts now and moves only when the run waits, which is not slept.

    Apart from the Tencent clients' clock, so a run's waits are counted without their backoff.
    """
    return FakeClock(start=time.time())


def run(
    job: BulkJob,
    worker: str = "test-host:1:run",
    *,
    clock: FakeClock | None = None,
    sleep: Callable[[float], None] | None = None,
    leases: Leases | None = None,
    **config,
) -> BulkRun:
    clock = clock or run_clock()
    config = RunnerConfig(threads=1, clock=clock, sleep=sleep or clock.sleep, **config)
    result = bulk_job_run(job_id=job.pk, worker=worker, config=config, leases=leases)
    job.refresh_from_db()
    return result


def rows(job: BulkJob, **filters) -> list[tuple]:
    return list(
        AuditEntry.objects.filter(job_id=job.pk, **filters)
        .order_by("id")
        .values_list("account", "action", "outcome", "error_code")
    )


def dead_pid() -> int:
    """The id of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def abandon(job: BulkJob, account: str, *, claimed_ago: float = 10.0) -> BulkItem:
    """Leave the account in flight as a worker that died would: claimed, lease run out."""
    now = timezone.now()
    BulkItem.objects.filter(job=job, account=account).update(
        state=BulkItem.State.IN_FLIGHT,
        claimed_by="gone-host:999:old",
        claimed_at=now - timedelta(seconds=claimed_ago),
        lease_until=now - timedelta(seconds=1),
    )
    BulkJob.objects.filter(pk=job.pk).update(state=BulkJob.State.RUNNING)
    return BulkItem.objects.get(job=job, account=account)


# Running a job


def test_a_lookup_job_records_each_accounts_mutes_and_one_audit_row_each(lead):
    nospeaking_set(tim_client(), "bob", c2c=PERMANENT, group=3600)
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice", "bob"])
    summary = run(job)
    assert (job.state, job.total, job.done, job.ok, job.errors) == ("done", 2, 2, 2, 0)
    assert job.started_at <= job.finished_at
    assert summary.processed == 2 and summary.state == "done"
    items = {item.account: item for item in job.items.all()}
    assert (items["alice"].c2c_observed, items["alice"].group_observed) == (0, 0)
    assert items["bob"].c2c_observed == PERMANENT
    assert 3590 <= items["bob"].group_observed <= 3600
    assert rows(job) == [("alice", "query", "ok", None), ("bob", "query", "ok", None)]
    entry = AuditEntry.objects.get(job_id=job.pk, account="bob")
    assert items["bob"].audit_entry_id == entry.pk
    assert entry.operator_username == "lead"


def test_a_set_job_sends_one_change_per_account_carrying_the_job_id(lead):
    job = bulk_job(
        operator=lead,
        operation="set",
        accounts=["alice", "bob", "carol"],
        group_seconds=600,
        reason="spam raid",
    )
    run(job)
    assert (job.state, job.ok, job.errors) == ("done", 3, 0)
    assert rows(job) == [(name, "change", "ok", None) for name in ("alice", "bob", "carol")]
    changes = AuditEntry.objects.filter(job_id=job.pk)
    assert set(changes.values_list("group_requested", "c2c_requested", "reason")) == {
        (600, None, "spam raid")
    }
    status = nospeaking_get(tim_client(), "carol")
    assert status.c2c_seconds == 0 and 590 <= status.group_seconds <= 600
    assert set(job.items.values_list("c2c_observed", "group_observed")) == {(None, 600)}


def test_a_lift_job_lifts_both_mutes(lead):
    nospeaking_set(tim_client(), "alice", c2c=PERMANENT, group=PERMANENT)
    job = bulk_job(operator=lead, operation="lift", accounts=["alice"], reason="appeal")
    run(job)
    status = nospeaking_get(tim_client(), "alice")
    assert (status.c2c_seconds, status.group_seconds) == (0, 0)
    assert AuditEntry.objects.get(job_id=job.pk).c2c_requested == 0


def test_progress_is_counted_as_accounts_finish(lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["a", "b", "c"])
    seen = []

    def watching(**kwargs):
        seen.append(BulkJob.objects.values_list("state", "done").get(pk=job.pk))
        return mute_get_many(**kwargs)

    run(job, claim_batch=1, upstream=Upstream(get_many=watching))
    assert seen == [("running", 0), ("running", 1), ("running", 2)]
    assert job.done == 3


def test_rate_limit_answers_are_retried_until_they_pass(lead, backoff_sleeps):
    # More 60007s than the client tries per call: the account is tried again after a pause.
    sandbox_fault_push(kind="error", code=60007, count=5)
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice", "bob"])
    run(job)
    assert (job.state, job.ok, job.errors) == ("done", 2, 0)
    # Each account's rows in the order they were written.
    assert sorted(rows(job), key=itemgetter(0)) == [
        ("alice", "query", "error", 60007),
        ("alice", "query", "ok", None),
        ("bob", "query", "ok", None),
    ]
    assert len(backoff_sleeps) == 4


def test_an_account_that_keeps_failing_is_put_back_twice_then_ends_as_an_error(
    lead, backoff_sleeps
):
    # Every try the client makes in three calls meets 60007.
    sandbox_fault_push(kind="error", code=60007, count=12)
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice"])
    clock = run_clock()
    run(job, clock=clock)
    assert (job.state, job.ok, job.errors) == ("done", 0, 1)
    alice = job.items.get()
    assert (alice.state, alice.error_code, alice.rescheduled) == ("error", 60007, 2)
    assert alice.error_info
    assert alice.audit_entry.error_code == 60007
    assert rows(job) == [("alice", "query", "error", 60007)] * 3
    # Put back for 1 s, then for 4 s: the run waited that long, the client's backoff aside.
    assert sum(clock.sleeps) == 5.0
    assert len(backoff_sleeps) == 9


def test_tencents_pause_code_holds_the_job_back_for_a_minute(lead):
    sandbox_fault_push(kind="error", code=70050)
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice", "bob"])
    clock = run_clock()
    run(job, clock=clock, claim_batch=1)
    assert (job.state, job.ok) == ("done", 2)
    # Nothing else is sent during the pause either: bob waits too.
    assert rows(job) == [
        ("alice", "query", "error", 70050),
        ("alice", "query", "ok", None),
        ("bob", "query", "ok", None),
    ]
    assert sum(clock.sleeps) == 60.0


def test_the_job_stays_open_while_an_account_waits_and_a_cancel_ends_it(lead):
    sandbox_fault_push(kind="error", code=60007, count=4)
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice", "bob"])
    seen = []

    def cancel() -> None:
        seen.append(BulkJob.objects.values_list("state", "done").get(pk=job.pk))
        bulk_job_cancel(job=job)

    clock = run_clock()

    def wait_then_cancel(seconds: float) -> None:
        clock.sleep(seconds)
        cancel()

    run(job, clock=clock, sleep=wait_then_cancel)
    assert seen == [("running", 1)]
    assert (job.state, job.ok, job.errors, job.not_sent) == ("cancelled", 1, 1, 0)
    alice = job.items.get(account="alice")
    # Not tried again after the cancel: the failure it met stands.
    assert (alice.state, alice.error_code) == ("error", 60007)
    assert rows(job, action="query") == [
        ("alice", "query", "error", 60007),
        ("bob", "query", "ok", None),
    ]
    # The cancel is one of the job's rows too.
    assert rows(job, action="cancel") == [("", "cancel", "ok", None)]


def test_claims_skip_an_account_put_back_until_it_is_due(lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice", "bob"])
    BulkJob.objects.filter(pk=job.pk).update(state=BulkJob.State.RUNNING)
    now = timezone.now()
    BulkItem.objects.filter(account="alice").update(not_before=now + timedelta(seconds=4))
    early = Leases(job_id=job.pk, worker="test-host:1:a", clock=lambda: now)
    assert [item.account for item in early.claim(size=10).items] == ["bob"]
    due = Leases(job_id=job.pk, worker="test-host:1:b", clock=lambda: now + timedelta(seconds=4))
    assert [item.account for item in due.claim(size=10).items] == ["alice"]


def test_bad_gateway_answers_are_retried(lead):
    sandbox_fault_push(kind="http502", count=2)
    job = bulk_job(
        operator=lead, operation="set", accounts=["alice"], c2c_seconds=60, reason="raid"
    )
    run(job)
    assert (job.ok, job.errors) == (1, 0)
    assert rows(job) == [("alice", "change", "ok", None)]
    assert nospeaking_get(tim_client(), "alice").c2c_seconds > 0


def test_a_permanent_error_is_recorded_for_its_account_and_the_job_goes_on(lead):
    sandbox_fault_push(kind="error", code=70107)
    job = bulk_job(operator=lead, operation="lift", accounts=["ghost", "alice"], reason="appeal")
    run(job)
    assert (job.state, job.done, job.ok, job.errors) == ("done", 2, 1, 1)
    ghost = job.items.get(account="ghost")
    assert (ghost.state, ghost.error_code) == ("error", 70107)
    assert ghost.error_info
    assert ghost.audit_entry.error_code == 70107
    assert job.items.get(account="alice").state == "ok"


def test_a_job_whose_author_was_deleted_sends_nothing_more(lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice"])
    lead.delete()
    run(job)
    assert job.state == "cancelled"
    assert AuditEntry.objects.count() == 0
    assert job.items.get().state == "todo"


def test_a_finished_job_is_not_run_again(lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice"])
    run(job)
    again = run(job, worker="test-host:1:again")
    assert again.processed == 0
    assert len(rows(job)) == 1


# Cancel


def test_cancel_stops_claiming_and_leaves_the_rest_not_sent(lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=[f"u{i}" for i in range(6)])

    def cancelling(**kwargs):
        calls = mute_get_many(**kwargs)
        bulk_job_cancel(job=job)
        return calls

    run(job, claim_batch=1, upstream=Upstream(get_many=cancelling))
    assert (job.state, job.done, job.not_sent) == ("cancelled", 1, 5)
    assert job.finished_at is not None
    assert list(job.items.values_list("state", flat=True)) == ["ok"] + ["todo"] * 5
    assert len(rows(job, action="query")) == 1


class CancelledAfterClaim(Leases):
    """The moderator cancels between the claim and the calls."""

    def claim(self, **kwargs):
        claim = super().claim(**kwargs)
        BulkJob.objects.filter(pk=self.job_id).update(cancel_requested=True)
        return claim


def test_claimed_items_not_yet_sent_are_handed_back_on_cancel(lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["a", "b", "c"])
    clock = run_clock()
    leases = CancelledAfterClaim(job_id=job.pk, worker="test-host:1:run", clock=clock)
    summary = run(job, clock=clock, leases=leases, heartbeat_seconds=0.0)
    assert (job.state, job.done, job.not_sent) == ("cancelled", 0, 3)
    assert summary.released == 3
    assert list(job.items.values_list("state", "claimed_by")) == [("todo", "")] * 3
    assert rows(job) == []


# Re-checking the calls a dead worker left in flight


def test_a_change_that_went_through_before_its_worker_died_is_rechecked_not_resent(lead):
    job = bulk_job(
        operator=lead, operation="set", accounts=["alice", "bob"], c2c_seconds=3600, reason="raid"
    )
    # The dead worker had begun alice's audit row and Tencent applied the change.
    audit_begin(operator=lead, action="change", account="alice", c2c_requested=3600, job_id=job.pk)
    nospeaking_set(tim_client(), "alice", c2c=3600)
    abandon(job, "alice")
    summary = run(job)
    assert summary.rechecked == 1
    assert (job.state, job.ok, job.errors) == ("done", 2, 0)
    assert rows(job) == [
        ("alice", "change", "pending", None),
        ("alice", "query", "ok", None),
        ("bob", "change", "ok", None),
    ]
    alice = job.items.get(account="alice")
    assert alice.state == "ok" and 3590 <= alice.c2c_observed <= 3600
    assert alice.audit_entry.action == "query"


def test_a_change_that_never_reached_tencent_is_sent_after_the_recheck(lead):
    job = bulk_job(
        operator=lead, operation="set", accounts=["alice"], c2c_seconds=3600, reason="raid"
    )
    audit_begin(operator=lead, action="change", account="alice", c2c_requested=3600, job_id=job.pk)
    abandon(job, "alice")
    run(job)
    assert rows(job) == [
        ("alice", "change", "pending", None),
        ("alice", "query", "ok", None),
        ("alice", "change", "ok", None),
    ]
    assert nospeaking_get(tim_client(), "alice").c2c_seconds > 3500


def test_a_claimed_change_with_no_audit_row_never_left_and_is_sent_without_a_query(lead):
    job = bulk_job(operator=lead, operation="lift", accounts=["alice"], reason="appeal")
    abandon(job, "alice")
    assert run(job).rechecked == 1
    assert rows(job) == [("alice", "change", "ok", None)]


def test_a_change_whose_audit_row_completed_is_settled_without_any_call(lead):
    job = bulk_job(
        operator=lead, operation="set", accounts=["alice"], group_seconds=600, reason="raid"
    )
    from muteadmin.mutes.services import mute_change

    mute_change(
        account="alice",
        operator=lead,
        reason="raid",
        group_seconds=600,
        job_id=job.pk,
        query_before=False,
    )
    abandon(job, "alice")
    run(job)
    assert len(rows(job)) == 1
    alice = job.items.get()
    assert (alice.state, alice.group_observed) == ("ok", 600)


def test_an_abandoned_lookup_is_simply_asked_again(lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice"])
    audit_begin(operator=lead, action="query", account="alice", job_id=job.pk)
    abandon(job, "alice")
    run(job)
    assert rows(job) == [("alice", "query", "pending", None), ("alice", "query", "ok", None)]
    assert job.items.get().state == "ok"


def test_the_claims_of_a_stopped_process_on_this_host_are_taken_over_at_once(lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice", "bob"])
    BulkItem.objects.filter(account="alice").update(
        state=BulkItem.State.IN_FLIGHT,
        claimed_by=f"{HOST}:{dead_pid()}:task",
        claimed_at=timezone.now(),
        # A lease that would run for another minute, were its holder alive.
        lease_until=timezone.now() + timedelta(seconds=60),
    )
    assert run(job).rechecked == 1
    assert job.state == "done"
    assert job.items.get(account="alice").claimed_by == "test-host:1:run"


def test_worker_gone_only_knows_about_this_host():
    assert worker_gone(f"{HOST}:{dead_pid()}:x")
    assert not worker_gone(f"{HOST}:{os.getppid()}:x")
    assert not worker_gone(f"elsewhere:{dead_pid()}:x")
    # A run in this process that has ended.
    assert worker_gone(f"{HOST}:{os.getpid()}:finished")


@pytest.mark.parametrize(
    ("requested", "observed", "elapsed", "matches"),
    [
        (None, 12345, 0, True),
        (0, 0, 100, True),
        (0, 5, 100, False),
        (PERMANENT, PERMANENT, 100, True),
        (PERMANENT, 3600, 100, False),
        (3600, PERMANENT, 100, False),
        (3600, 3600, 0, True),
        (3600, 3500, 100, True),
        (3600, 3496, 100, True),
        (3600, 3490, 100, False),
        (3600, 0, 100, False),
        (60, 0, 100, True),
    ],
)
def test_mute_state_matches(requested, observed, elapsed, matches):
    assert mute_state_matches(requested=requested, observed=observed, elapsed=elapsed) is matches


# Jobs whose workers died


def stale(job: BulkJob, *, seconds: float = 120) -> None:
    BulkJob.objects.filter(pk=job.pk).update(
        state=BulkJob.State.RUNNING, heartbeat_at=timezone.now() - timedelta(seconds=seconds)
    )


def ready_tasks() -> int:
    return DBTaskResult.objects.filter(status="READY").count()


def test_a_running_job_with_a_stale_heartbeat_and_no_queued_task_is_queued_again(lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice"])
    stale(job)
    assert bulk_jobs_recover(queue=task_queue) == [job.pk]
    job.refresh_from_db()
    assert timezone.now() - job.heartbeat_at < timedelta(seconds=5)
    assert ready_tasks() == 1
    assert len(job.task_ids) == 1
    # Fresh again, and its task is waiting in line: nothing more is queued.
    assert bulk_jobs_recover(queue=task_queue) == []
    stale(job)
    assert bulk_jobs_recover(queue=task_queue) == []
    assert ready_tasks() == 1


def test_a_recently_touched_or_finished_job_is_left_alone(lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice"])
    stale(job, seconds=10)
    assert bulk_jobs_recover(queue=task_queue) == []
    BulkJob.objects.filter(pk=job.pk).update(
        state=BulkJob.State.DONE, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    assert bulk_jobs_recover(queue=task_queue) == []


def test_polling_status_picks_up_a_stale_job(as_lead, lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice"])
    stale(job)
    as_lead.get(reverse("bulk:status", args=[job.pk]))
    assert ready_tasks() == 1
    # The queued task resumes the job.
    task = DBTaskResult.objects.get(status="READY")
    assert task.args_kwargs["kwargs"] == {"job_id": job.pk}
    run(job)
    assert job.state == "done"


def test_bulk_recover_command(lead, capsys):
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice"])
    call_command("bulk_recover")
    assert "No bulk job needed picking up." in capsys.readouterr().out
    stale(job)
    call_command("bulk_recover")
    assert f"Queued again: #{job.pk}." in capsys.readouterr().out


def test_the_task_runs_the_job_through_the_tasks_api(lead, django_capture_on_commit_callbacks):
    immediate = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    # One thread: the job's rows are in this test's transaction, which other threads cannot see.
    with (
        override_settings(TASKS=immediate, BULK_WORKER_THREADS=1),
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = bulk_job(operator=lead, operation="lookup", accounts=["alice", "bob"])
    job.refresh_from_db()
    assert (job.state, job.ok) == ("done", 2)
    assert job.items.get(account="alice").claimed_by.startswith(f"{HOST}:{os.getpid()}:")


@pytest.mark.django_db(transaction=True)
def test_threads_share_a_job_without_doing_any_account_twice(django_user_model):
    if connection.vendor == "sqlite":
        # The in-memory test database locks whole tables between connections; the worker tests
        # run threads against a SQLite file instead.
        pytest.skip("threads need a file or server database")
    # Not the Lead group: an earlier transactional test's flush may have emptied the groups and
    # permissions that migrations made.
    runner = django_user_model.objects.create_superuser(username="runner")
    accounts = [f"user{i}" for i in range(120)]
    job = bulk_job(operator=runner, operation="lookup", accounts=accounts)
    bulk_job_run(job_id=job.pk, worker="test-host:1:threads", config=RunnerConfig(threads=6))
    job.refresh_from_db()
    assert (job.state, job.done, job.ok) == ("done", 120, 120)
    assert sorted(AuditEntry.objects.filter(job_id=job.pk).values_list("account", flat=True)) == (
        sorted(accounts)
    )
