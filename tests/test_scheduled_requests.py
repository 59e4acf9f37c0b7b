"""A scheduled change above its scheduler's limit: a mute request that a Lead approves, which
then schedules the change for its time (or for the worker's next pass once that has passed)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from muteadmin.approvals.models import MuteRequest
from muteadmin.audit.models import AuditEntry
from muteadmin.mutes.services import mute_get
from muteadmin.scheduled.models import ScheduledChange
from muteadmin.scheduled.services import scheduled_run_due
from tests.conftest import user_in

pytestmark = pytest.mark.django_db

URL = "/scheduled/"
DAY = 86400


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def in_minutes(minutes: int) -> str:
    return timezone.localtime(timezone.now() + timedelta(minutes=minutes)).strftime(
        "%Y-%m-%dT%H:%M"
    )


def request_scheduled(client: Client, *, minutes: int = 30, **fields):
    data = {
        "account": "raider",
        "run_at": in_minutes(minutes),
        "c2c_seconds": str(30 * DAY),
        "reason": "raid at the event",
        "request_approval": "1",
    } | fields
    return client.post(URL, data, follow=True)


def later(minutes: int):
    return timezone.now() + timedelta(minutes=minutes)


def test_above_the_limit_a_moderator_requests_approval_and_nothing_is_scheduled_yet(moderator):
    page = request_scheduled(signed_in(moderator)).content.decode()
    request = MuteRequest.objects.get()
    assert f"Request #{request.pk} for raider is waiting for a Lead" in page
    assert (request.status, request.c2c_seconds) == ("pending", 30 * DAY)
    assert request.run_at is not None and request.run_at > timezone.now()
    assert not ScheduledChange.objects.exists()
    filed = AuditEntry.objects.get(action="request_filed")
    assert (filed.operator_username, filed.correlation_id) == ("mod", request.correlation_id)
    account = signed_in(moderator).get("/mutes/raider/").content.decode()
    assert "A scheduled change: made at" in account


def test_requests_page_shows_it_is_a_scheduled_change_and_when_it_would_run(moderator, lead):
    request_scheduled(signed_in(moderator))
    listing = signed_in(lead).get(reverse("approvals:list")).content.decode()
    assert "data-scheduled-for" in listing and "Scheduled change: made at" in listing
    assert "data-time-passed" not in listing


def test_approving_schedules_it_for_its_time_and_the_worker_runs_it_for_the_requester(
    moderator, lead
):
    request_scheduled(signed_in(moderator))
    request = MuteRequest.objects.get()
    response = signed_in(lead).post(reverse("approvals:approve", args=[request.pk]), follow=True)
    scheduled = ScheduledChange.objects.get()
    assert f"scheduled change #{scheduled.pk} for raider is made at" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "approved"
    assert (scheduled.run_at, scheduled.created_by_username) == (request.run_at, "mod")
    assert (scheduled.approved_by_username, scheduled.state) == ("lead", "waiting")
    assert mute_get(account="raider", operator=lead).c2c_seconds == 0
    waiting = signed_in(moderator).get(URL).content.decode()
    assert "(approved by lead)" in waiting
    assert scheduled_run_due(now=later(20)) == []
    # The requester's own limit is below the change; it runs within the approver's.
    assert scheduled_run_due(now=later(31)) == [scheduled.pk]
    scheduled.refresh_from_db()
    assert scheduled.state == "done"
    assert 30 * DAY - 60 < mute_get(account="raider", operator=lead).c2c_seconds <= 30 * DAY
    rows = AuditEntry.objects.filter(correlation_id=request.correlation_id).order_by("id")
    assert [(row.action, row.operator_username, row.on_behalf_of) for row in rows] == [
        ("request_filed", "mod", None),
        ("request_approved", "lead", "mod"),
        ("query", "lead", "mod"),
        ("scheduled", "lead", "mod"),
        ("query", "(scheduler)", "mod"),
        ("change", "(scheduler)", "mod"),
    ]


def test_approved_after_its_time_it_runs_on_the_next_pass(clock, moderator, lead):
    clock.set(timezone.now())
    request_scheduled(signed_in(moderator), minutes=5)
    request = MuteRequest.objects.get()
    clock.advance(20 * 60)
    listing = signed_in(lead).get(reverse("approvals:list")).content.decode()
    assert "Its time has passed: approving has it made on the worker" in listing
    with clock.freeze_django():
        response = signed_in(lead).post(
            reverse("approvals:approve", args=[request.pk]), follow=True
        )
        assert "has passed, so scheduled change" in response.content.decode()
        scheduled = ScheduledChange.objects.get()
        assert scheduled.run_at == request.run_at
        assert scheduled_run_due() == [scheduled.pk]
    scheduled.refresh_from_db()
    assert scheduled.state == "done"


def test_a_rejected_scheduled_request_schedules_nothing(moderator, lead):
    request_scheduled(signed_in(moderator))
    request = MuteRequest.objects.get()
    signed_in(lead).post(
        reverse("approvals:reject", args=[request.pk]), {f"r{request.pk}-reason": "too long"}
    )
    assert MuteRequest.objects.get().status == "rejected"
    assert not ScheduledChange.objects.exists()


def test_a_time_too_soon_is_refused_before_anything_is_filed(moderator):
    page = request_scheduled(signed_in(moderator), minutes=0).content.decode()
    assert "Pick a time at least a minute from now" in page
    assert not MuteRequest.objects.exists()


def test_a_role_taken_from_the_approver_in_between_stops_the_run(moderator, lead):
    request_scheduled(signed_in(moderator))
    request = MuteRequest.objects.get()
    signed_in(lead).post(reverse("approvals:approve", args=[request.pk]))
    lead.groups.clear()
    user_in("other", "Lead")
    scheduled_run_due(now=later(31))
    scheduled = ScheduledChange.objects.get()
    assert scheduled.state == "failed"
    assert mute_get(account="raider", operator=moderator).c2c_seconds == 0
