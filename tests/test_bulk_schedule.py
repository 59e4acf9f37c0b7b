"""Bulk jobs that start later: held as "scheduled", queued by the worker at their time,
cancelled while they wait, listed on /scheduled/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from muteadmin.audit.models import AuditEntry
from muteadmin.bulk.models import BulkJob
from muteadmin.bulk.runner import RunnerConfig, bulk_job_run
from muteadmin.bulk.schedule import bulk_jobs_start_due
from muteadmin.bulk.tasks import task_queue
from muteadmin.mutes.services import mute_change, mute_get
from muteadmin.periodic.registry import periodic_specs
from muteadmin.robots.texts import message_render
from muteadmin.tencent.nospeaking import PERMANENT
from tests.test_bulk_views import bulk_tasks, confirm_fields, preview, results_csv
from tests.test_robots_events import listening, queued

pytestmark = pytest.mark.django_db


def in_minutes(minutes: int) -> str:
    return timezone.localtime(timezone.now() + timedelta(minutes=minutes)).strftime(
        "%Y-%m-%dT%H:%M"
    )


def start_later(client, minutes: int = 30):
    page = preview(
        client,
        operation="set",
        c2c_seconds="3600",
        reason="event raid",
        starts_at=in_minutes(minutes),
    )
    assert page.status_code == 200, page.content
    html = page.content.decode()
    assert "data-bulk-starts-at" in html
    return client.post("/bulk/", confirm_fields(html))


def test_a_job_started_later_waits_sending_nothing(as_lead, lead):
    response = start_later(as_lead)
    job = BulkJob.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/bulk/{job.pk}/")
    assert job.state == "scheduled" and job.starts_at is not None
    assert job.task_ids == [] and bulk_tasks() == []
    page = as_lead.get(f"/bulk/{job.pk}/").content.decode()
    assert "data-starts-at" in page
    assert "Bulk job #" in as_lead.get("/scheduled/").content.decode()
    assert bulk_jobs_start_due(queue=task_queue) == []
    assert mute_get(account="alice", operator=lead).c2c_seconds == 0


def test_at_its_time_the_worker_queues_it_once_and_it_runs(as_lead, lead):
    start_later(as_lead)
    job = BulkJob.objects.get()
    at = job.starts_at + timedelta(seconds=1)
    assert bulk_jobs_start_due(queue=task_queue, now=at) == [job.pk]
    assert bulk_jobs_start_due(queue=task_queue, now=at) == []
    job.refresh_from_db()
    assert job.state == "queued" and len(job.task_ids) >= 1
    bulk_job_run(job_id=job.pk, worker="test:1:a", config=RunnerConfig(threads=1))
    job.refresh_from_db()
    assert (job.state, job.ok) == ("done", 2)
    assert 3500 < mute_get(account="alice", operator=lead).c2c_seconds <= 3600


def test_a_waiting_job_can_be_cancelled_and_never_starts(as_lead):
    start_later(as_lead)
    job = BulkJob.objects.get()
    as_lead.post(f"/bulk/{job.pk}/cancel/")
    job.refresh_from_db()
    assert (job.state, job.cancelled_by_username) == ("cancelled", "lead")
    assert bulk_jobs_start_due(queue=task_queue, now=job.starts_at + timedelta(hours=1)) == []
    assert bulk_tasks() == []


def test_a_start_too_soon_is_a_form_error(as_lead):
    page = preview(as_lead, operation="lookup", starts_at=in_minutes(0))
    assert "Pick a time at least a minute from now" in page.content.decode()
    assert not BulkJob.objects.exists()


def test_the_worker_looks_for_due_jobs_every_half_minute():
    spec = {spec.name: spec for spec in periodic_specs()}["bulk_jobs_start_due"]
    assert spec.every <= 30


def run_at_its_time(job: BulkJob) -> None:
    at = job.starts_at + timedelta(seconds=1)
    assert bulk_jobs_start_due(queue=task_queue, now=at) == [job.pk]
    bulk_job_run(job_id=job.pk, worker="test:1:a", config=RunnerConfig(threads=1))
    job.refresh_from_db()


def test_an_account_changed_before_the_start_is_skipped_not_overwritten(as_lead, lead):
    listening("drift")
    start_later(as_lead)
    job = BulkJob.objects.get()
    # Someone mutes alice permanently while the job waits: its hour must not replace that.
    mute_change(account="alice", operator=lead, reason="worse", c2c_seconds=PERMANENT)
    run_at_its_time(job)
    assert (job.state, job.ok, job.errors) == ("done", 1, 1)
    assert mute_get(account="alice", operator=lead).c2c_seconds == PERMANENT
    assert 3500 < mute_get(account="bob", operator=lead).c2c_seconds <= 3600
    page = as_lead.get(f"/bulk/{job.pk}/").content.decode()
    assert 'data-account="alice" data-outcome="skipped"' in page
    assert "Skipped: the account changed" in page and "not overwritten" in page
    skipped = as_lead.get(f"/bulk/{job.pk}/?outcome=skipped").content.decode()
    assert 'data-account="alice"' in skipped and 'data-account="bob"' not in skipped
    rows = {row[0]: row for row in results_csv(as_lead, job)[1:]}
    assert rows["alice"][1] == "skipped" and "not overwritten" in rows["alice"][3]
    drift = AuditEntry.objects.get(action="drift")
    assert (drift.account, drift.job_id) == ("alice", job.pk)
    assert (drift.operator_username, drift.on_behalf_of) == ("(scheduler)", "lead")
    assert not AuditEntry.objects.filter(action="change", job_id=job.pk, account="alice").exists()
    (facts,) = queued("drift")
    assert (facts["bulk_job"], facts["accounts"], facts["skipped"]) == (f"#{job.pk}", "alice", 1)
    text = message_render("drift", facts, language="en").text
    assert "skipped 1 accounts whose mutes changed after it was scheduled: alice" in text


def test_a_lookup_made_in_between_does_not_skip_an_account(as_lead, lead):
    start_later(as_lead)
    job = BulkJob.objects.get()
    mute_get(account="alice", operator=lead)
    run_at_its_time(job)
    assert (job.ok, job.errors) == (2, 0)
    assert not AuditEntry.objects.filter(action="drift").exists()


def test_a_job_started_at_once_has_no_guard_to_read(as_lead, lead):
    page = preview(as_lead, operation="set", c2c_seconds="3600", reason="raid")
    as_lead.post("/bulk/", confirm_fields(page.content.decode()))
    assert BulkJob.objects.get().seen_audit_id is None
