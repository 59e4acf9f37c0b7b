"""The mute report: who is muted now, from each account's last seen state, as a page and CSV."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from muteadmin.audit.models import AccountMuteState, AuditEntry
from muteadmin.reports.selectors import (
    CSV_HEADER,
    MuteReportFilters,
    mute_report_rows,
    mute_state_at,
)
from muteadmin.reports.services import mute_report_export
from muteadmin.tencent.nospeaking import PERMANENT
from tests.conftest import audit_row, user_with

pytestmark = pytest.mark.django_db

REPORT = reverse("reports:mutes")
REPORT_CSV = reverse("reports:mutes_csv")
SOURCE_SENTENCE = (
    "Built from what this dashboard has seen, kept true by a regular reconcile with Tencent: "
    "accounts muted or unmuted elsewhere (another tool, Tencent's console) show up after the "
    "next reconcile, or as soon as someone looks them up here."
)


def seen(
    account: str,
    *,
    c2c: int = 0,
    group: int = 0,
    observed_at: datetime | None = None,
    changed_at: datetime | None = None,
    operator: str = "",
    reason: str = "",
) -> AccountMuteState:
    """Store an account's last seen state the way the audit log keeps it."""
    observed_at = observed_at or timezone.now()
    ends = {}
    for kind, seconds in (("c2c", c2c), ("group", group)):
        if seconds == PERMANENT:
            ends[kind] = AccountMuteState.FOREVER
        elif seconds > 0:
            ends[kind] = observed_at + timedelta(seconds=seconds)
        else:
            ends[kind] = None
    active = [end for end in ends.values() if end is not None]
    change = None
    if changed_at is not None:
        change = audit_row(account=account, action="change", operator=operator, reason=reason)
    return AccountMuteState.objects.create(
        account=account,
        c2c_seconds=c2c,
        group_seconds=group,
        observed_at=observed_at,
        c2c_expires_at=None if c2c == PERMANENT else ends["c2c"],
        group_expires_at=None if group == PERMANENT else ends["group"],
        active_until=max(active) if active else None,
        observed_entry=audit_row(account=account, operator=operator or "lead"),
        last_change_entry=change,
        last_change_at=changed_at,
        last_operator=operator,
        last_reason=reason,
    )


def report_accounts(response) -> list[str]:
    assert response.status_code == 200
    return re.findall(r'<tr data-account="([^"]*)"', response.content.decode())


def report_row(response, account: str) -> str:
    html = response.content.decode()
    match = re.search(rf'<tr data-account="{re.escape(account)}">.*?</tr>', html, re.S)
    assert match, f"{account} is not in the report"
    return match.group(0)


def cell_state(row_html: str, kind: str) -> str:
    return re.search(rf'data-state="{kind}" data-value="(\w+)"', row_html).group(1)


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(body)))


def csv_by_account(response) -> dict[str, dict[str, str]]:
    header, *rows = csv_rows(response)
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# The expiry arithmetic


def test_state_is_computed_from_the_seconds_seen_and_when():
    seen_at = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    now = seen_at + timedelta(minutes=5)
    assert mute_state_at(seconds=600, observed_at=seen_at, now=now) == (
        "muted",
        seen_at + timedelta(seconds=600),
    )
    assert mute_state_at(seconds=PERMANENT, observed_at=seen_at, now=now) == ("permanent", None)
    assert mute_state_at(seconds=0, observed_at=seen_at, now=now) == ("none", None)
    # Ending exactly now counts as ended, and the end is kept so a reader sees when.
    assert mute_state_at(seconds=300, observed_at=seen_at, now=now) == (
        "none",
        seen_at + timedelta(seconds=300),
    )


def test_a_permanent_mute_is_listed_without_an_end(as_lead):
    seen("forever", group=PERMANENT, operator="lead", changed_at=timezone.now())
    rows = csv_by_account(as_lead.get(REPORT_CSV))
    assert rows["forever"]["group_state"] == "permanent"
    assert rows["forever"]["group_expires_at"] == ""
    assert rows["forever"]["c2c_state"] == "none"
    assert rows["forever"]["c2c_expires_at"] == ""
    row = report_row(as_lead.get(REPORT), "forever")
    assert "Permanently muted" in row


def test_a_mute_that_has_run_out_is_left_out(as_lead):
    seen("bygone", c2c=600, observed_at=timezone.now() - timedelta(hours=1))
    seen("current", c2c=600)
    assert report_accounts(as_lead.get(REPORT)) == ["current"]
    assert list(csv_by_account(as_lead.get(REPORT_CSV))) == ["current"]


def test_an_extended_mute_shows_its_new_end(as_lead):
    first_seen = timezone.now() - timedelta(hours=1)
    state = seen("extended", c2c=600, observed_at=first_seen)
    assert report_accounts(as_lead.get(REPORT)) == []
    # Seen again later with more time left: the state row now holds the later observation.
    again = timezone.now() - timedelta(minutes=1)
    state.c2c_seconds = 7200
    state.observed_at = again
    state.c2c_expires_at = state.active_until = again + timedelta(seconds=7200)
    state.save()
    rows = csv_by_account(as_lead.get(REPORT_CSV))
    assert rows["extended"]["c2c_state"] == "muted"
    assert rows["extended"]["c2c_expires_at"] == iso(again + timedelta(seconds=7200))
    assert rows["extended"]["observed_at"] == iso(again)


def test_a_lifted_mute_is_left_out_even_with_expired_mutes(as_lead):
    seen("lifted", operator="lead", reason="appeal granted", changed_at=timezone.now())
    assert report_accounts(as_lead.get(REPORT)) == []
    assert report_accounts(as_lead.get(REPORT, {"include_expired": "1"})) == []


def test_when_one_mute_ran_out_the_other_keeps_the_account_listed(as_lead):
    observed_at = timezone.now() - timedelta(minutes=10)
    seen("half", c2c=300, group=3600, observed_at=observed_at)
    rows = csv_by_account(as_lead.get(REPORT_CSV))
    assert rows["half"]["c2c_state"] == "none"
    assert rows["half"]["c2c_expires_at"] == iso(observed_at + timedelta(seconds=300))
    assert rows["half"]["group_state"] == "muted"
    assert rows["half"]["group_expires_at"] == iso(observed_at + timedelta(seconds=3600))
    row = report_row(as_lead.get(REPORT), "half")
    assert (cell_state(row, "c2c"), cell_state(row, "group")) == ("none", "muted")
    assert "Ran out" in row


# Mutes that have run out


def test_include_expired_adds_mutes_that_have_run_out(as_lead):
    observed_at = timezone.now() - timedelta(days=2)
    seen("bygone", c2c=600, observed_at=observed_at)
    seen("current", group=600)
    seen("never", operator="lead", changed_at=timezone.now())
    assert report_accounts(as_lead.get(REPORT, {"include_expired": "1"})) == ["bygone", "current"]
    assert report_accounts(as_lead.get(REPORT, {"include_expired": "0"})) == ["current"]
    rows = csv_by_account(as_lead.get(REPORT_CSV, {"include_expired": "1"}))
    assert set(rows) == {"bygone", "current"}
    assert rows["bygone"]["c2c_state"] == "none"
    assert rows["bygone"]["c2c_expires_at"] == iso(observed_at + timedelta(seconds=600))


def test_the_expired_checkbox_submits_include_expired_1(as_lead):
    html = as_lead.get(REPORT).content.decode()
    assert re.search(r'<input type="checkbox" name="include_expired"[^>]*value="1"', html)


# Filters


def test_operator_filter_matches_the_last_operator_exactly(as_lead):
    now = timezone.now()
    seen("by-lead", c2c=3600, operator="lead", changed_at=now)
    seen("by-leader", c2c=3600, operator="leader", changed_at=now)
    seen("looked-up-only", c2c=3600)
    assert report_accounts(as_lead.get(REPORT, {"operator": "lead"})) == ["by-lead"]
    assert list(csv_by_account(as_lead.get(REPORT_CSV, {"operator": "leader"}))) == ["by-leader"]


@pytest.fixture
def shanghai(settings):
    settings.TIME_ZONE = "Asia/Shanghai"


@pytest.fixture
def around_midnight_in_shanghai():
    """Changes a second either side of midnight starting 25 November in Shanghai (UTC+8)."""
    seen(
        "late-24th",
        c2c=3600,
        operator="lead",
        changed_at=datetime(2026, 11, 24, 15, 59, 59, tzinfo=UTC),
    )
    seen(
        "early-25th",
        c2c=3600,
        operator="lead",
        changed_at=datetime(2026, 11, 24, 16, 0, tzinfo=UTC),
    )
    seen(
        "late-25th",
        c2c=3600,
        operator="lead",
        changed_at=datetime(2026, 11, 25, 15, 59, 59, tzinfo=UTC),
    )
    seen(
        "early-26th",
        c2c=3600,
        operator="auditor",
        changed_at=datetime(2026, 11, 25, 16, 0, tzinfo=UTC),
    )


def accounts_for(client, **params) -> set[str]:
    return set(report_accounts(client.get(REPORT, params)))


def test_dates_are_whole_days_in_the_moderators_zone(
    as_lead, shanghai, around_midnight_in_shanghai
):
    assert accounts_for(as_lead, since="2026-11-25") == {"early-25th", "late-25th", "early-26th"}
    assert accounts_for(as_lead, until="2026-11-24") == {"late-24th"}
    assert accounts_for(as_lead, since="2026-11-25", until="2026-11-25") == {
        "early-25th",
        "late-25th",
    }


def test_date_times_are_moments_in_the_moderators_zone(
    as_lead, shanghai, around_midnight_in_shanghai
):
    # since is inclusive, until exclusive.
    assert accounts_for(as_lead, since="2026-11-26 00:00") == {"early-26th"}
    assert accounts_for(as_lead, until="2026-11-26T00:00") == {
        "late-24th",
        "early-25th",
        "late-25th",
    }


def test_filters_combine_and_apply_to_the_csv(as_lead, shanghai, around_midnight_in_shanghai):
    assert accounts_for(as_lead, since="2026-11-25", operator="lead") == {"early-25th", "late-25th"}
    rows = csv_by_account(as_lead.get(REPORT_CSV, {"since": "2026-11-25", "operator": "auditor"}))
    assert list(rows) == ["early-26th"]


def test_accounts_with_no_change_seen_drop_out_of_a_date_filter(as_lead, shanghai):
    seen("looked-up-only", c2c=3600)
    assert accounts_for(as_lead) == {"looked-up-only"}
    assert accounts_for(as_lead, since="2000-01-01") == set()


def test_bad_filters_are_explained(as_lead):
    response = as_lead.get(REPORT, {"since": "2026-11-26", "until": "2026-11-25"})
    assert response.status_code == 400
    assert "after the &#x27;until&#x27; moment" in response.content.decode()
    response = as_lead.get(REPORT, {"since": "yesterday"})
    assert response.status_code == 400
    assert "Enter a date as 2026-11-25" in response.content.decode()
    response = as_lead.get(REPORT_CSV, {"since": "yesterday"})
    assert response.status_code == 400
    assert b"Enter a date as 2026-11-25" in response.content
    assert not AuditEntry.objects.filter(action="export").exists()


# The page


def test_the_page_links_accounts_names_the_zone_and_says_where_it_comes_from(as_lead, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    observed_at = datetime.now(UTC).replace(microsecond=0)
    seen(
        "alice/1",
        c2c=86400 * 3,
        observed_at=observed_at,
        operator="lead",
        changed_at=observed_at,
        reason="raid",
    )
    response = as_lead.get(REPORT)
    html = response.content.decode()
    assert SOURCE_SENTENCE in html.replace("&#x27;", "'")
    row = report_row(response, "alice/1")
    assert f'href="{reverse("mutes:account", kwargs={"account": "alice/1"})}"' in row
    ends = timezone.localtime(observed_at + timedelta(days=3))
    assert f"{ends:%Y-%m-%d %H:%M:%S}</time>" in row
    assert "Europe/Berlin" in html
    assert "raid" in row and "lead" in row


def test_reason_and_account_are_escaped(as_lead):
    seen(
        "<b>x</b>",
        c2c=3600,
        operator="lead",
        changed_at=timezone.now(),
        reason="<script>alert(1)</script>",
    )
    html = as_lead.get(REPORT).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>x</b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_pages_follow_cursors_without_skipping_repeating_or_counting(as_lead):
    now = timezone.now()
    shared = audit_row(account="many", operator="lead")
    # Ties on the end time (many accounts muted by one action) must not break the order.
    states = [
        AccountMuteState(
            account=f"user{number:03d}",
            c2c_seconds=3600 + number // 7,
            observed_at=now,
            c2c_expires_at=now + timedelta(seconds=3600 + number // 7),
            active_until=now + timedelta(seconds=3600 + number // 7),
            observed_entry=shared,
        )
        for number in range(120)
    ]
    AccountMuteState.objects.bulk_create(states)
    expected = [state.account for state in states]

    seen_pages = []
    url = REPORT + "?include_expired=1"
    with CaptureQueriesContext(connection) as queries:
        while url:
            response = as_lead.get(url)
            seen_pages.append(report_accounts(response))
            match = re.search(r'<a href="([^"]+)" rel="next"', response.content.decode())
            url = match.group(1).replace("&amp;", "&") if match else None
    assert [len(page) for page in seen_pages] == [50, 50, 20]
    assert [account for page in seen_pages for account in page] == expected
    report_sql = [
        q["sql"].upper() for q in queries.captured_queries if "MUTESTATE" in q["sql"].upper()
    ]
    assert report_sql
    assert not any("COUNT(" in sql or "OFFSET" in sql for sql in report_sql)

    # Back from the last page lands on the second exactly, and the filters ride along.
    last = as_lead.get(REPORT + "?include_expired=1&after=" + _cursor_after(seen_pages, 1, states))
    assert report_accounts(last) == seen_pages[2]
    previous = re.search(r'<a href="([^"]+)" rel="prev"', last.content.decode()).group(1)
    assert "include_expired=1" in previous
    assert report_accounts(as_lead.get(previous.replace("&amp;", "&"))) == seen_pages[1]
    first = as_lead.get(REPORT)
    assert 'rel="prev"' not in first.content.decode()


def _cursor_after(pages, index, states):
    from muteadmin.reports.selectors import REPORT_KEYSET

    last = next(state for state in states if state.account == pages[index][-1])
    stored = AccountMuteState.objects.get(pk=last.pk)
    return REPORT_KEYSET.encode((stored.active_until, stored.pk))


def test_a_damaged_page_link_is_explained(as_lead):
    response = as_lead.get(REPORT, {"after": "not-a-cursor"})
    assert response.status_code == 400
    assert "start again from the first page" in response.content.decode()


def test_the_export_batches_by_cursor_through_ties():
    now = timezone.now()
    shared = audit_row(account="many", operator="lead")
    AccountMuteState.objects.bulk_create(
        AccountMuteState(
            account=f"tie{number}",
            c2c_seconds=PERMANENT,
            observed_at=now,
            active_until=AccountMuteState.FOREVER,
            observed_entry=shared,
        )
        for number in range(7)
    )
    rows = list(mute_report_rows(filters=MuteReportFilters(), now=now, batch_size=2))
    assert [row.account for row in rows] == [f"tie{number}" for number in range(7)]


# CSV


def test_csv_header_is_exact_and_the_download_is_named_by_date(as_auditor):
    response = as_auditor.get(REPORT_CSV)
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="mute-report-{today}.csv"'
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[0] == (
        "account,c2c_state,c2c_expires_at,group_state,group_expires_at,"
        "last_change_at,last_operator,last_reason,observed_at,rule"
    )
    assert tuple(body.splitlines()[0].split(",")) == CSV_HEADER


def test_csv_neutralises_formulas_and_quotes_commas(as_lead):
    changed_at = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    observed_at = timezone.now().replace(microsecond=0)
    seen(
        "=cmd",
        c2c=PERMANENT,
        observed_at=observed_at,
        operator="lead",
        changed_at=changed_at,
        reason='=HYPERLINK("http://evil.example","click"), then @SUM(1)',
    )
    seen("quiet", group=3600, observed_at=observed_at)
    rows = csv_by_account(as_lead.get(REPORT_CSV))
    assert (
        rows["'=cmd"]["last_reason"] == '\'=HYPERLINK("http://evil.example","click"), then @SUM(1)'
    )
    assert rows["'=cmd"]["last_change_at"] == "2026-11-20T08:30:00Z"
    assert rows["'=cmd"]["observed_at"] == iso(observed_at)
    assert rows["quiet"]["last_change_at"] == ""
    assert rows["quiet"]["last_operator"] == ""


def test_the_export_is_audited_with_its_filters_and_row_count(as_lead, lead):
    seen("a1", c2c=3600, operator="lead", changed_at=timezone.now())
    seen("a2", c2c=3600, operator="lead", changed_at=timezone.now())
    response = as_lead.get(REPORT_CSV, {"operator": "lead", "include_expired": "1", "after": "x.1"})
    entry = AuditEntry.objects.get(action="export")
    # Written before the first byte, completed once the last one has gone.
    assert entry.outcome == "pending"
    assert entry.operator == lead
    assert entry.details["report"] == "mutes"
    assert entry.details["filters"] == {"operator": ["lead"], "include_expired": ["1"]}
    assert len(csv_rows(response)) == 3
    entry.refresh_from_db()
    assert entry.outcome == "ok"
    assert entry.completed_at is not None
    assert entry.details["rows"] == 2


def test_an_export_cut_short_is_recorded_as_such(lead):
    seen("a1", c2c=3600)
    export = mute_report_export(operator=lead, filters=MuteReportFilters(), now=timezone.now())
    assert next(iter(export)).startswith("account,")
    # What the server does when the client goes away mid-download.
    export.close()
    entry = AuditEntry.objects.get(action="export")
    assert (entry.outcome, entry.error_info) == ("error", "Export interrupted after 0 rows.")
    assert entry.details["rows"] == 0


def test_an_export_never_read_is_not_left_pending(lead):
    mute_report_export(operator=lead, filters=MuteReportFilters(), now=timezone.now()).close()
    entry = AuditEntry.objects.get(action="export")
    assert (entry.outcome, entry.error_info) == ("error", "Export interrupted after 0 rows.")


# Permissions


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in (REPORT, REPORT_CSV):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_moderators_and_outsiders_may_not_see_or_export(client, moderator, outsider):
    for user in (moderator, outsider):
        client.force_login(user)
        assert client.get(REPORT).status_code == 403
        assert client.get(REPORT_CSV).status_code == 403
    assert not AuditEntry.objects.filter(action="export").exists()


def test_leads_and_auditors_may_see_and_export(client, lead, auditor):
    for user in (lead, auditor):
        client.force_login(user)
        page = client.get(REPORT, {"operator": "lead"})
        assert page.status_code == 200
        assert f'href="{REPORT_CSV}?operator=lead" data-export-csv' in page.content.decode()
        assert client.get(REPORT_CSV).status_code == 200


def test_the_export_link_needs_the_export_permission(client):
    viewer = user_with("viewer", "view_audit_log")
    client.force_login(viewer)
    page = client.get(REPORT)
    assert page.status_code == 200
    assert "Export CSV" not in page.content.decode()
    assert client.get(REPORT_CSV).status_code == 403


# End to end (needs the audit log to keep AccountMuteState up to date as rows complete)


def test_end_to_end_a_mute_made_here_appears_in_the_report(as_lead, lead):
    from muteadmin.mutes.services import mute_change

    result = mute_change(account="e2e-muted", operator=lead, reason="flooding", c2c_seconds=3600)
    response = as_lead.get(REPORT)
    row = report_row(response, "e2e-muted")
    assert (cell_state(row, "c2c"), cell_state(row, "group")) == ("muted", "none")
    assert "flooding" in row
    rows = csv_by_account(as_lead.get(REPORT_CSV, {"operator": "lead"}))
    assert rows["e2e-muted"]["c2c_state"] == "muted"
    assert rows["e2e-muted"]["last_operator"] == "lead"
    assert rows["e2e-muted"]["last_reason"] == "flooding"
    ends = datetime.fromisoformat(rows["e2e-muted"]["c2c_expires_at"])
    expected = result.change.observed_at + timedelta(seconds=3600)
    assert abs((ends - expected).total_seconds()) <= 2
