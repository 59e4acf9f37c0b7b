"""The reconcile: mutes set, lifted or clobbered outside muteadmin are found and recorded as
drifts, the report and account page say so, and a run's result is shown; both databases."""

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from muteadmin.audit.models import AccountMuteState, AuditEntry
from muteadmin.mutes.services import mute_change, mute_get
from muteadmin.periodic.registry import periodic_specs
from muteadmin.periodic.services import periodic_run_due
from muteadmin.reconcile.models import ReconcileRun
from muteadmin.reconcile.services import ReconcileBusy, ReconcileStopped, reconcile_run
from muteadmin.reconcile.settings import reconcile_every_seconds, reconcile_share_fraction
from muteadmin.reconcile.watchlist import watchlist_add
from muteadmin.robots.texts import message_render
from muteadmin.sandbox.runtime import SandboxRuntime
from muteadmin.tencent.nospeaking import PERMANENT, nospeaking_set
from muteadmin.upstream.clients import tim_client
from muteadmin.upstream.ratelimit import UpstreamShare
from tests.test_robots_events import listening, queued

pytestmark = pytest.mark.django_db

HOUR = 3600
OPERATOR = "(reconcile)"


@pytest.fixture
def timed(clock, settings):
    """One fake clock, starting now, for Tencent's answers, the sandbox and the audit rows."""
    clock.set(timezone.now())
    settings.TIM_SANDBOX_RUNTIME = SandboxRuntime(clock=clock, sleep=clock.sleep)
    with clock.freeze_django():
        yield clock


def outside(account: str, **mutes: int) -> None:
    """Another tool sets the account's mutes straight through Tencent (the emulator): no audit."""
    nospeaking_set(tim_client(), account, **mutes)


def reconcile() -> ReconcileRun:
    return reconcile_run(trigger="command", threads=1)


def drifts() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="drift").order_by("id"))


def test_a_mute_set_outside_is_recorded_as_drift_and_the_state_follows(lead, moderator):
    mute_get(account="alice", operator=moderator)  # seen here: not muted
    watchlist_add(operator=lead, accounts=["alice"], app="default")
    outside("alice", c2c=HOUR)

    run = reconcile()

    (drift,) = drifts()
    assert (drift.account, drift.operator, drift.operator_username) == ("alice", None, OPERATOR)
    found = drift.details
    assert found["kinds"] == ["c2c"]
    assert found["expected"] == {"c2c": 0, "group": 0}
    assert HOUR - 5 <= found["found"]["c2c"] <= HOUR and found["found"]["group"] == 0
    assert drift.error_info.startswith("C2C: expected not muted, found muted, ")
    assert drift.outcome == "ok" and drift.chain_seq is not None
    # The lookup itself is the reconcile's own audited query, of the same operation.
    query = AuditEntry.objects.get(pk=found["query_entry"])
    assert (query.action, query.operator_username, query.operator) == ("query", OPERATOR, None)
    assert query.correlation_id == drift.correlation_id == run.correlation_id
    assert (run.state, run.total, run.checked, run.differences) == ("finished", 1, 1, 1)
    state = AccountMuteState.objects.get(account="alice")
    assert HOUR - 5 <= state.c2c_seconds <= HOUR and state.active_until is not None


def test_a_lift_elsewhere_is_a_drift_and_the_account_leaves_the_report(lead, as_lead):
    mute_change(account="bob", operator=lead, reason="flood", c2c_seconds=HOUR)
    outside("bob", c2c=0)

    reconcile()

    (drift,) = drifts()
    found = drift.details
    assert found["kinds"] == ["c2c"] and found["found"] == {"c2c": 0, "group": 0}
    assert HOUR - 5 <= found["expected"]["c2c"] <= HOUR
    assert (
        drift.error_info.startswith("C2C: expected muted, ")
        and "found not muted." in drift.error_info
    )
    assert AccountMuteState.objects.get(account="bob").active_until is None
    page = as_lead.get(reverse("reports:mutes")).content.decode()
    assert 'data-account="bob"' not in page
    assert "checked 1 account" in page and "1 difference" in page and "data-drift-link" in page


def test_one_kind_clobbered_by_another_client_changing_the_other(lead, as_lead):
    mute_change(account="carol", operator=lead, reason="raid", group_seconds=2 * HOUR)
    # Some SDKs send both kinds when changing one: the group mute set here is lifted.
    outside("carol", c2c=PERMANENT, group=0)

    reconcile()

    (drift,) = drifts()
    found = drift.details
    assert found["kinds"] == ["c2c", "group"]
    assert found["found"] == {"c2c": PERMANENT, "group": 0}
    assert found["expected"]["c2c"] == 0 and found["expected"]["group"] > HOUR
    assert drift.error_info.startswith("C2C: expected not muted, found permanently muted. Group: ")
    row = as_lead.get(reverse("reports:mutes")).content.decode()
    assert 'data-account="carol"' in row and "changed outside muteadmin, noticed" in row
    card = as_lead.get(reverse("mutes:account", args=["carol"])).content.decode()
    # Both cards: the C2C mute set and the group mute lifted outside.
    assert card.count("Changed outside muteadmin: noticed by the reconcile") == 2
    assert 'data-timeline-entry="drift"' in card
    # The account's story says what was found, in the drift row's words.
    assert "C2C: expected not muted, found permanently muted. Group: expected muted" in card


# Transactional: the run's call threads read the emulator's mutes on connections of their own.
# Nothing here needs a role (the flush after it removes them), so no serialized rollback.
@pytest.mark.django_db(transaction=True)
def test_side_by_side_lookups_find_each_drift_once(django_user_model):
    someone = django_user_model.objects.create_user(username="someone")
    accounts = [f"many{number}" for number in range(8)]
    for account in accounts:
        outside(account, c2c=HOUR)
        mute_get(account=account, operator=someone)  # seen here: muted for an hour
    watchlist_add(operator=someone, accounts=accounts, app="default")
    for number in (1, 4, 6):
        outside(f"many{number}", c2c=0)

    run = reconcile_run(trigger="command", threads=4, batch_size=3)

    assert sorted(drift.account for drift in drifts()) == ["many1", "many4", "many6"]
    assert (run.total, run.checked, run.differences, run.failed) == (8, 8, 3, 0)


def test_a_mute_that_ran_out_on_time_or_is_still_running_is_no_drift(lead, timed):
    mute_change(account="dave", operator=lead, reason="spam", c2c_seconds=60)
    mute_change(account="erin", operator=lead, reason="spam", group_seconds=HOUR)
    timed.advance(30 * 60)

    run = reconcile()

    assert drifts() == []
    assert (run.checked, run.differences) == (2, 0)
    dave = AccountMuteState.objects.get(account="dave")
    assert dave.c2c_seconds == 0 and dave.active_until is None


def test_a_change_made_here_afterwards_supersedes_the_drift_on_the_page(lead, as_lead):
    mute_change(account="fred", operator=lead, reason="spam", c2c_seconds=HOUR)
    outside("fred", c2c=0)
    reconcile()
    assert "data-drift" in as_lead.get(reverse("mutes:account", args=["fred"])).content.decode()

    mute_change(account="fred", operator=lead, reason="again", c2c_seconds=HOUR)

    assert "data-drift" not in as_lead.get(reverse("mutes:account", args=["fred"])).content.decode()
    reconcile()
    assert len(drifts()) == 1


def test_an_account_seen_for_the_first_time_sets_the_expectation_without_a_drift(lead):
    outside("gina", c2c=HOUR)
    watchlist_add(operator=lead, accounts=["gina"], app="default")

    run = reconcile()

    assert drifts() == [] and run.checked == 1
    assert AccountMuteState.objects.get(account="gina").c2c_seconds > 0


def test_a_failed_lookup_is_counted_not_a_drift(lead):
    from muteadmin.sandbox.services import sandbox_fault_push

    mute_change(account="hana", operator=lead, reason="spam", c2c_seconds=HOUR)
    sandbox_fault_push(kind="error", code=70107, count=1)

    run = reconcile()

    assert drifts() == [] and (run.checked, run.failed) == (0, 1)


def test_a_run_stops_when_tencent_cannot_be_reached_and_says_why(lead, as_lead):
    from muteadmin.sandbox.services import sandbox_fault_push

    mute_change(account="kate", operator=lead, reason="spam", c2c_seconds=HOUR)
    mute_change(account="liam", operator=lead, reason="spam", c2c_seconds=HOUR)
    sandbox_fault_push(kind="refused", count=100)

    with pytest.raises(ReconcileStopped, match="Every lookup of a batch failed"):
        reconcile()

    run = ReconcileRun.objects.get()
    assert (run.state, run.checked, run.failed) == ("failed", 0, 2)
    assert "Every lookup of a batch failed" in run.error_info and drifts() == []
    status = as_lead.get(reverse("reports:mutes")).content.decode()
    assert "the last run failed just now after checking 0 of 2 accounts" in status
    assert "Every lookup of a batch failed (" in status


def test_the_command_refuses_to_start_beside_a_live_run():
    now = timezone.now()
    ReconcileRun.objects.create(trigger="worker", started_at=now, beat_at=now)

    with pytest.raises(CommandError, match="already running"):
        call_command("mute_reconcile", stdout=io.StringIO())


def test_the_command_runs_one_and_says_what_it_found(lead):
    mute_change(account="ivan", operator=lead, reason="spam", c2c_seconds=HOUR)
    outside("ivan", group=HOUR)
    out = io.StringIO()

    call_command("mute_reconcile", stdout=out)

    assert "checked 1 account; 1 difference." in out.getvalue()
    assert ReconcileRun.objects.get().trigger == "command"


def test_a_second_run_does_not_start_beside_a_live_one_but_replaces_a_dead_one():
    now = timezone.now()
    ReconcileRun.objects.create(trigger="worker", started_at=now, beat_at=now)
    with pytest.raises(ReconcileBusy):
        reconcile()
    ReconcileRun.objects.update(beat_at=now - timedelta(hours=1))

    assert reconcile().state == "finished"
    assert ReconcileRun.objects.order_by("id").first().state == "interrupted"


def test_the_worker_runs_it_every_reconcile_every_minutes(settings, lead):
    (spec,) = [spec for spec in periodic_specs() if spec.name == "mute_reconcile"]
    assert spec.every == 3600
    settings.RECONCILE_EVERY_MINUTES = 15
    assert reconcile_every_seconds() == 900
    mute_change(account="jack", operator=lead, reason="spam", c2c_seconds=HOUR)

    assert "mute_reconcile" in periodic_run_due()

    run = ReconcileRun.objects.get()
    assert (run.trigger, run.state, run.checked) == ("worker", "finished", 1)


@pytest.mark.parametrize(
    ("value", "fraction"), [("25%", 0.25), ("0.25", 0.25), (" 10 % ", 0.1), ("1", 1.0)]
)
def test_the_share_reads_a_percentage_or_a_fraction(value, fraction):
    assert reconcile_share_fraction(value) == pytest.approx(fraction)


@pytest.mark.parametrize("value", ["0", "0%", "-5%", "150%", "1.5", "a quarter", "", "nan"])
def test_a_share_that_is_no_part_of_the_cap_is_refused(value):
    with pytest.raises(ImproperlyConfigured, match="RECONCILE_SHARE"):
        reconcile_share_fraction(value)


def test_a_share_of_a_small_cap_still_makes_calls():
    assert UpstreamShare(name="r", fraction=0.25).limit(200) == 50
    assert UpstreamShare(name="r", fraction=0.25).limit(3) == 1


def test_a_run_in_progress_shows_how_far_it_got(as_lead, lead):
    now = timezone.now()
    ReconcileRun.objects.create(
        trigger="worker", started_at=now, beat_at=now, total=12_400, checked=1_200, differences=3
    )

    page = as_lead.get(reverse("reports:mutes")).content.decode()

    assert "Reconciling with Tencent now: checked 1,200 of 12,400 accounts so far" in page
    assert "3 differences so far" in page
    drift_list = as_lead.get(reverse("audit:list"), {"action": "drift"})
    assert drift_list.status_code == 200


def test_before_any_run_the_report_says_so(as_lead):
    assert (
        "Reconcile with Tencent: not run yet."
        in as_lead.get(reverse("reports:mutes")).content.decode()
    )


@pytest.mark.parametrize(
    ("name", "value"), [("RECONCILE_SHARE", "250%"), ("RECONCILE_EVERY_MINUTES", 0)]
)
def test_a_setting_it_cannot_use_stops_the_process_at_its_checks(settings, name, value):
    from django.core.checks import run_checks

    setattr(settings, name, value)

    errors = [error for error in run_checks() if error.id == "muteadmin.E301"]

    assert len(errors) == 1 and name in errors[0].msg


def test_the_drift_row_reads_in_the_audit_log(lead, as_lead):
    mute_change(account="mona", operator=lead, reason="spam", c2c_seconds=HOUR)
    outside("mona", c2c=0)
    reconcile()
    (drift,) = drifts()

    listed = as_lead.get(reverse("audit:list"), {"action": "drift"}).content.decode()
    detail = as_lead.get(reverse("audit:detail", args=[drift.pk])).content.decode()

    assert "mona" in listed and OPERATOR in listed
    assert "C2C: expected muted, " in detail and "found not muted." in detail
    # The detail page links the lookup that found it, a row of the same operation.
    assert reverse("audit:detail", args=[drift.details["query_entry"]]) in detail


def test_a_skipped_scheduled_change_is_not_taken_for_a_change_outside(lead, as_lead):
    from muteadmin.audit.services import audit_record

    mute_change(account="nina", operator=lead, reason="spam", c2c_seconds=HOUR)
    # The scheduler's drift row: the account changed before its time (perhaps here).
    audit_record(
        operator=None,
        action="drift",
        account="nina",
        app="default",
        c2c_requested=0,
        error_info="Skipped: the account's c2c mute changed after it was scheduled.",
        details={"by": "scheduler", "kinds": ["c2c"]},
    )

    card = as_lead.get(reverse("mutes:account", args=["nina"])).content.decode()
    report = as_lead.get(reverse("reports:mutes")).content.decode()

    assert "Changed outside muteadmin: noticed" not in card
    assert "changed outside muteadmin, noticed" not in report


def test_a_drift_is_told_to_the_destinations_that_chose_it(
    lead, moderator, django_capture_on_commit_callbacks
):
    listening("drift")
    mute_get(account="alice", operator=moderator)
    watchlist_add(operator=lead, accounts=["alice"], app="default")
    outside("alice", c2c=HOUR)
    with django_capture_on_commit_callbacks(execute=True):
        reconcile()
    (facts,) = queued("drift")
    assert (facts["account"], facts["app"]) == ("alice", "default")
    assert facts["expected_c2c"] == 0 and HOUR - 5 <= facts["found_c2c"] <= HOUR
    assert "found_group" not in facts
    english = message_render("drift", facts, language="en").text
    assert english.startswith("alice (app default) had its mutes changed outside muteadmin:")
    assert "expected lifted, found 1 hour" in english or "found 59 minutes" in english
    assert "alice" in message_render("drift", facts, language="zh-hans").text
