"""The sweeper: rows a crash or a database outage left pending are completed as "unknown",
after a re-check of the account, on SQLite and PostgreSQL alike."""

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_begin, audit_complete
from muteadmin.audit.sweeper import audit_sweep_pending
from muteadmin.core.account_paths import account_url
from muteadmin.mutes.services import mute_change
from muteadmin.periodic.services import periodic_run_due
from muteadmin.sandbox.services import sandbox_fault_push
from tests.conftest import audit_begun

pytestmark = pytest.mark.django_db

SWEEP_AFTER = 300


@pytest.fixture(autouse=True)
def today(clock):
    """The test's clock starts now: the sandbox checks UserSigs against the time it keeps."""
    clock.set(timezone.now())
    return clock


def crashed_change(clock, operator, *, account: str = "alice") -> AuditEntry:
    """A 10-minute mute change begun (committed) by a process that then died: still pending."""
    with clock.freeze_django():
        return audit_begun(operator, account=account, reason="spam")


def sweep(clock, *, after: float) -> list[int]:
    """A sweep `after` seconds from now on the test's clock."""
    clock.advance(after)
    with clock.freeze_django():
        return audit_sweep_pending()


def verify_chain() -> str:
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def test_a_change_left_pending_is_completed_unknown_with_what_the_recheck_found(clock, lead):
    with clock.freeze_django():
        mute_change(account="alice", operator=lead, reason="first", c2c_seconds=3600)
    entry = crashed_change(clock, lead)
    assert sweep(clock, after=SWEEP_AFTER + 1) == [entry.pk]
    entry.refresh_from_db()
    assert entry.outcome == "unknown" and entry.chain_seq is not None
    assert entry.get_outcome_display() == "Outcome unknown"
    # The re-check: its own query row, of the same operation, made by no one.
    recheck = AuditEntry.objects.get(correlation_id=entry.correlation_id, action="query")
    assert (recheck.outcome, recheck.operator_username) == ("ok", "")
    assert entry.details["swept"]["recheck_entry"] == recheck.pk
    # What it found is recorded in the swept row: the first change's hour (the sandbox keeps
    # its own time), no group mute.
    assert (entry.c2c_observed, entry.group_observed) == (recheck.c2c_observed, 0)
    assert 0 < entry.c2c_observed <= 3600
    assert "Whether the call reached Tencent cannot be told" in entry.error_info
    assert f"audit row {recheck.pk}" in entry.error_info
    assert "C2C muted, " in entry.error_info and "group not muted" in entry.error_info
    # Completed through the audit services: the chain covers it and still verifies.
    assert "Chain intact: 4 rows checked." in verify_chain()


def test_a_row_pending_for_less_than_the_setting_is_left_alone(clock, lead, settings):
    entry = crashed_change(clock, lead)
    assert sweep(clock, after=SWEEP_AFTER - 1) == []
    assert AuditEntry.objects.get(pk=entry.pk).outcome == "pending"
    assert not AuditEntry.objects.filter(action="query").exists()
    settings.AUDIT_PENDING_SWEEP_AFTER_SECONDS = 60
    assert sweep(clock, after=0) == [entry.pk]


def test_a_failed_recheck_still_completes_the_row_and_says_why(clock, lead):
    entry = crashed_change(clock, lead)
    sandbox_fault_push(kind="error", code=70107, count=10)
    assert sweep(clock, after=SWEEP_AFTER + 1) == [entry.pk]
    entry.refresh_from_db()
    assert entry.outcome == "unknown"
    assert (entry.c2c_observed, entry.group_observed) == (None, None)
    assert "could not be re-checked: Tencent error 70107" in entry.error_info
    recheck = AuditEntry.objects.get(correlation_id=entry.correlation_id, action="query")
    assert (recheck.outcome, recheck.error_code) == ("error", 70107)
    assert entry.details["swept"]["recheck_failed"].startswith("Tencent error 70107")


def test_an_app_no_longer_configured_is_not_called_and_the_row_says_so(clock, lead):
    with clock.freeze_django():
        entry = audit_begin(
            operator=lead, action="change", account="alice", c2c_requested=60, app="gone"
        )
    assert sweep(clock, after=SWEEP_AFTER + 1) == [entry.pk]
    entry.refresh_from_db()
    assert entry.outcome == "unknown"
    assert "the Chat app 'gone' is no longer configured here" in entry.error_info
    assert not AuditEntry.objects.filter(action="query").exists()


def test_an_export_left_pending_is_completed_without_a_call(clock, lead):
    with clock.freeze_django():
        entry = audit_begin(operator=lead, action="export", account="", details={"rows": 0})
    assert sweep(clock, after=SWEEP_AFTER + 1) == [entry.pk]
    entry.refresh_from_db()
    assert entry.outcome == "unknown"
    assert "Nothing to re-check" in entry.error_info
    assert entry.details["rows"] == 0 and "recheck_entry" not in entry.details["swept"]
    assert AuditEntry.objects.count() == 1


def test_sweeping_again_or_completing_late_changes_nothing(clock, lead):
    entry = crashed_change(clock, lead)
    assert sweep(clock, after=SWEEP_AFTER + 1) == [entry.pk]
    swept = AuditEntry.objects.get(pk=entry.pk)
    assert sweep(clock, after=60) == []
    # The process that began it answers at last: the row stays as the sweeper completed it.
    audit_complete(entry=entry, outcome="ok", latency_ms=5, request_random=1, c2c_observed=600)
    again = AuditEntry.objects.get(pk=entry.pk)
    assert (again.outcome, again.chain_hash, again.error_info) == (
        "unknown",
        swept.chain_hash,
        swept.error_info,
    )
    assert AuditEntry.objects.filter(action="query").count() == 1


def test_a_row_completed_meanwhile_is_not_swept(clock, lead):
    entry = crashed_change(clock, lead)
    audit_complete(entry=entry, outcome="ok", latency_ms=5, request_random=1, c2c_observed=600)
    assert sweep(clock, after=SWEEP_AFTER + 1) == []
    assert AuditEntry.objects.get(pk=entry.pk).outcome == "ok"


def test_the_oldest_rows_are_swept_first_a_batch_at_a_time(clock, lead):
    entries = [crashed_change(clock, lead, account=f"u{i}") for i in range(3)]
    clock.advance(SWEEP_AFTER + 1)
    with clock.freeze_django():
        assert audit_sweep_pending(limit=2) == [entries[0].pk, entries[1].pk]
        assert audit_sweep_pending(limit=2) == [entries[2].pk]


def test_the_command_sweeps_and_says_what_it_found(clock, lead):
    entry = crashed_change(clock, lead)
    clock.advance(SWEEP_AFTER + 1)
    out = io.StringIO()
    with clock.freeze_django():
        call_command("audit_sweep_pending", stdout=out)
    text = out.getvalue()
    assert f"Audit row {entry.pk}: Outcome unknown" in text
    assert "1 row pending for more than 300 s completed as unknown." in text


def test_the_worker_sweeps_every_minute(clock, lead):
    entry = crashed_change(clock, lead)
    clock.advance(SWEEP_AFTER + 1)
    with clock.freeze_django():
        assert "audit_sweep_pending" in periodic_run_due()
    assert AuditEntry.objects.get(pk=entry.pk).outcome == "unknown"
    late = crashed_change(clock, lead, account="bob")
    clock.advance(SWEEP_AFTER + 1)
    with clock.freeze_django():
        assert "audit_sweep_pending" in periodic_run_due()
    assert AuditEntry.objects.get(pk=late.pk).outcome == "unknown"


def test_pages_and_the_export_say_outcome_unknown(clock, lead, client):
    entry = crashed_change(clock, lead)
    sweep(clock, after=SWEEP_AFTER + 1)
    client.force_login(lead)
    listing = client.get(reverse("audit:list")).content.decode()
    assert "Outcome unknown" in listing and "outcome-unknown" in listing
    detail = client.get(reverse("audit:detail", args=[entry.pk])).content.decode()
    assert "Outcome unknown" in detail and "Whether the call reached Tencent" in detail
    page = client.get(account_url("alice")).content.decode()
    assert "Outcome unknown" in page
    filtered = client.get(reverse("audit:list") + "?outcome=unknown").content.decode()
    assert f'data-entry="{entry.pk}"' in filtered
    response = client.get(reverse("audit:export"))
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    swept = next(row for row in rows if row["id"] == str(entry.pk))
    assert swept["outcome"] == "unknown"
    assert swept["error_info"].startswith("Outcome unknown")


def test_the_mute_report_says_a_later_changes_outcome_is_unknown(clock, lead, client):
    with clock.freeze_django():
        mute_change(account="alice", operator=lead, reason="first", c2c_seconds=3600)
        mute_change(account="bob", operator=lead, reason="first", c2c_seconds=3600)
    clock.advance(1)
    crashed_change(clock, lead)
    sweep(clock, after=SWEEP_AFTER + 1)
    client.force_login(lead)
    with clock.freeze_django():
        page = client.get(reverse("reports:mutes")).content.decode()
        body = b"".join(client.get(reverse("reports:mutes_csv")).streaming_content).decode()
    alice = page[page.index('data-account="alice"') :].split("</tr>")[0]
    bob = page[page.index('data-account="bob"') :].split("</tr>")[0]
    assert "outcome unknown" in alice and "data-outcome-unknown" in alice
    assert "outcome unknown" not in bob
    # The report's CSV keeps its columns (the rule appended last).
    assert body.splitlines()[0] == (
        "account,c2c_state,c2c_expires_at,group_state,group_expires_at,last_change_at,"
        "last_operator,last_reason,observed_at,rule"
    )
