"""Scheduled changes: made by the worker at their time in the scheduler's name, within their
limits; cancelled; skipped with a drift row when the account changed in between; never run twice."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from muteadmin.audit.models import AuditEntry
from muteadmin.mutes.permissions import ApprovalRequired
from muteadmin.mutes.services import mute_change, mute_get
from muteadmin.periodic.registry import periodic_specs
from muteadmin.robots.texts import message_render
from muteadmin.scheduled.models import ScheduledChange
from muteadmin.scheduled.services import scheduled_create, scheduled_run_due
from muteadmin.tencent.nospeaking import PERMANENT
from tests.conftest import signed_in, user_in
from tests.test_robots_events import listening, queued

pytestmark = pytest.mark.django_db

URL = "/scheduled/"
DAY = 86400
HOUR = 3600


def in_minutes(minutes: int) -> str:
    """A datetime-local value `minutes` from now, in the current time zone."""
    return timezone.localtime(timezone.now() + timedelta(minutes=minutes)).strftime(
        "%Y-%m-%dT%H:%M"
    )


def schedule(client: Client, **fields) -> object:
    data = {
        "account": "raider",
        "run_at": in_minutes(10),
        "c2c_seconds": str(HOUR),
        "reason": "event starts",
    } | fields
    return client.post(URL, data)


def later(minutes: int):
    return timezone.now() + timedelta(minutes=minutes)


def test_a_moderator_schedules_a_mute_and_nothing_changes_until_its_time(moderator):
    response = schedule(signed_in(moderator))
    assert response.status_code == 302
    scheduled = ScheduledChange.objects.get()
    assert (scheduled.state, scheduled.account, scheduled.c2c_seconds) == (
        "waiting",
        "raider",
        HOUR,
    )
    assert scheduled.group_seconds is None
    assert mute_get(account="raider", operator=moderator).c2c_seconds == 0
    rows = AuditEntry.objects.filter(correlation_id=scheduled.correlation_id).order_by("id")
    assert [(row.action, row.operator_username) for row in rows] == [
        ("query", "mod"),
        ("scheduled", "mod"),
    ]
    page = signed_in(moderator).get(URL).content.decode()
    assert "raider" in page and "data-scheduled-waiting" in page
    assert scheduled_run_due(now=later(5)) == []


def test_at_its_time_the_worker_makes_the_change_in_the_schedulers_name(moderator):
    schedule(signed_in(moderator))
    scheduled = ScheduledChange.objects.get()
    assert scheduled_run_due(now=later(11)) == [scheduled.pk]
    scheduled.refresh_from_db()
    assert scheduled.state == "done"
    status = mute_get(account="raider", operator=moderator)
    assert HOUR - 60 < status.c2c_seconds <= HOUR
    rows = AuditEntry.objects.filter(correlation_id=scheduled.correlation_id).order_by("id")
    # The worker's calls name the scheduler, on behalf of the person who scheduled them.
    assert [(row.action, row.operator_username, row.on_behalf_of) for row in rows][2:] == [
        ("query", "(scheduler)", "mod"),
        ("change", "(scheduler)", "mod"),
    ]
    change = rows.get(action="change")
    assert (change.operator_id, change.outcome, change.c2c_requested) == (None, "ok", HOUR)
    assert change.client_ip is None
    # Run again, by this worker or another after a restart: nothing runs twice.
    assert scheduled_run_due(now=later(12)) == []
    assert AuditEntry.objects.filter(action="change").count() == 1


def test_a_lift_at_a_moment_ends_a_permanent_mute(lead):
    mute_change(account="troll", operator=lead, reason="raid", c2c_seconds=PERMANENT)
    response = schedule(signed_in(lead), account="troll", c2c_seconds="0", reason="served")
    assert response.status_code == 302
    scheduled = ScheduledChange.objects.get()
    assert scheduled.is_lift and scheduled.seen_c2c == PERMANENT
    scheduled_run_due(now=later(11))
    assert mute_get(account="troll", operator=lead).c2c_seconds == 0
    assert ScheduledChange.objects.get().state == "done"


def test_a_change_made_in_between_skips_it_with_a_drift_row(moderator, lead):
    mute_change(account="troll", operator=lead, reason="raid", c2c_seconds=DAY)
    schedule(signed_in(lead), account="troll", c2c_seconds="0", reason="served")
    # Someone else makes it permanent before the lift's time: the lift must not undo that.
    mute_change(account="troll", operator=lead, reason="worse", c2c_seconds=PERMANENT)
    scheduled_run_due(now=later(11))
    scheduled = ScheduledChange.objects.get()
    assert scheduled.state == "skipped"
    assert "changed after it was scheduled" in scheduled.outcome_message
    assert mute_get(account="troll", operator=lead).c2c_seconds == PERMANENT
    drift = AuditEntry.objects.get(action="drift")
    assert (drift.operator_username, drift.on_behalf_of) == ("(scheduler)", "lead")
    assert drift.details["found"]["c2c"] == PERMANENT
    assert DAY - 60 < drift.details["expected"]["c2c"] <= DAY
    assert drift.correlation_id == scheduled.correlation_id
    assert not AuditEntry.objects.filter(
        action="change", correlation_id=scheduled.correlation_id
    ).exists()
    page = signed_in(lead).get("/mutes/troll/").content.decode()
    assert "Changed outside muteadmin" in page or "Drift" in page


def test_above_the_limit_is_refused_audited_and_offered_as_a_request(moderator, lead):
    response = schedule(signed_in(moderator), c2c_seconds=str(PERMANENT))
    assert response.status_code == 400
    page = response.content.decode()
    assert "data-approval-notice" in page and "data-request-approval" in page
    assert "You may not mute accounts permanently" in page
    assert not ScheduledChange.objects.exists()
    assert (
        signed_in(lead)
        .post(
            URL,
            {
                "account": "raider",
                "run_at": in_minutes(10),
                "c2c_seconds": str(PERMANENT),
                "reason": "x",
            },
        )
        .status_code
        == 302
    )
    with pytest.raises(ApprovalRequired, match="above your limit"):
        scheduled_create(
            account="raider",
            operator=moderator,
            run_at=later(10),
            reason="x",
            c2c_seconds=30 * DAY,
        )
    assert AuditEntry.objects.filter(action="denied", operator_username="mod").exists()


def test_a_time_too_soon_or_in_the_past_is_refused(moderator):
    for minutes in (-60, 0):
        response = schedule(signed_in(moderator), run_at=in_minutes(minutes))
        assert response.status_code == 400
        assert "at least a minute from now" in response.content.decode()
    assert not ScheduledChange.objects.exists()


def test_cancelling_own_or_as_a_lead_and_a_cancelled_change_never_runs(moderator, lead):
    other = user_in("mod2", "Moderator")
    schedule(signed_in(moderator))
    scheduled = ScheduledChange.objects.get()
    cancel = f"{URL}{scheduled.pk}/cancel/"
    response = signed_in(other).post(cancel, follow=True)
    assert "Only its scheduler or a Lead" in response.content.decode()
    assert ScheduledChange.objects.get().state == "waiting"
    signed_in(lead).post(cancel)
    scheduled.refresh_from_db()
    assert (scheduled.state, scheduled.cancelled_by_username) == ("cancelled", "lead")
    row = AuditEntry.objects.filter(action="scheduled").latest("id")
    assert (row.operator_username, row.details["did"]) == ("lead", "cancelled")
    assert scheduled_run_due(now=later(11)) == []
    assert mute_get(account="raider", operator=moderator).c2c_seconds == 0


def test_an_auditor_sees_the_list_but_cannot_schedule(auditor, moderator):
    schedule(signed_in(moderator))
    page = signed_in(auditor).get(URL)
    assert page.status_code == 200 and b"data-schedule-form" not in page.content
    assert schedule(signed_in(auditor)).status_code == 403
    cancel = f"{URL}{ScheduledChange.objects.get().pk}/cancel/"
    assert signed_in(auditor).post(cancel).status_code == 403


def test_a_worker_that_stopped_mid_run_leaves_it_unknown_never_run_again(moderator):
    schedule(signed_in(moderator))
    scheduled = ScheduledChange.objects.get()
    ScheduledChange.objects.filter(pk=scheduled.pk).update(state="running", started_at=later(-20))
    assert scheduled_run_due(now=later(11)) == []
    scheduled.refresh_from_db()
    assert scheduled.state == "unknown"
    assert "not made again" in scheduled.outcome_message
    assert not AuditEntry.objects.filter(action="change").exists()


def test_the_worker_looks_for_due_changes_every_half_minute():
    spec = {spec.name: spec for spec in periodic_specs()}["scheduled_run_due"]
    assert spec.every <= 30


def test_the_account_page_links_to_scheduling_for_that_account(moderator):
    page = signed_in(moderator).get("/mutes/raider/").content.decode()
    assert 'href="/scheduled/?account=raider"' in page
    form = signed_in(moderator).get(f"{URL}?account=raider").content.decode()
    assert 'value="raider"' in form


def test_a_skipped_change_is_told_to_the_destinations_that_chose_drift(lead):
    listening("drift")
    mute_change(account="troll", operator=lead, reason="raid", c2c_seconds=DAY)
    schedule(signed_in(lead), account="troll", c2c_seconds="0", reason="served")
    mute_change(account="troll", operator=lead, reason="worse", c2c_seconds=PERMANENT)
    scheduled_run_due(now=later(11))
    (facts,) = queued("drift")
    assert facts["scheduled"] == f"#{ScheduledChange.objects.get().pk}"
    assert facts["found_c2c"] == PERMANENT and "found_group" not in facts
    text = message_render("drift", facts, language="en").text
    assert "was skipped: the account's mutes changed after it was scheduled" in text
    assert "found permanent" in text


def test_the_audit_log_and_the_timeline_say_the_scheduler_made_it_for_its_person(moderator, lead):
    schedule(signed_in(moderator))
    scheduled_run_due(now=later(11))
    change = AuditEntry.objects.get(action="change")
    client = signed_in(lead)
    listing = client.get("/audit/?action=change").content.decode()
    assert "scheduler <span" in listing and "data-on-behalf-of>for mod</span>" in listing
    assert "(scheduler)" not in listing
    detail = client.get(f"/audit/{change.pk}/").content.decode()
    assert 'data-field="operator">scheduler' in detail and "user since deleted" not in detail
    timeline = client.get("/mutes/raider/").content.decode()
    assert "by scheduler for mod" in timeline
    assert "Set by <strong>scheduler</strong>" in timeline
    chinese = client.get("/audit/?action=change", HTTP_ACCEPT_LANGUAGE="zh-hans").content
    assert "调度器" in chinese.decode()
