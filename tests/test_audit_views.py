"""The audit history pages: who may see them, paging by cursor, each row's detail, the chart."""

import json
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from muteadmin.audit.derived import audit_derived_rebuild
from muteadmin.audit.models import AuditEntry, AuditHourlyCount, AuditOperatorHourlyCount
from muteadmin.audit.selectors import (
    CHART_DEFAULT_DAYS,
    CHART_MAX_DAYS,
    PAGE_SIZE,
    audit_chart_days,
    audit_daily_counts,
    audit_filtered,
)
from muteadmin.tencent.nospeaking import PERMANENT
from tests.conftest import FakeClock, audit_row, user_with
from tests.test_audit_filters import filters_from, shown

# A day's counts name every action, those without rows as 0.
NO_ROWS = dict.fromkeys(AuditEntry.Action.values, 0)

pytestmark = pytest.mark.django_db


def many_rows(count: int, **fields) -> list[int]:
    """`count` rows written in one go, oldest first; their ids, newest first."""
    clock = FakeClock()
    clock.set(timezone.now())
    with clock.freeze_django():
        AuditEntry.objects.bulk_create(
            AuditEntry(
                action=fields.get("action", "query"),
                outcome="ok",
                account=fields.get("account", f"user{n}"),
                operator_username="mod",
                latency_ms=10,
            )
            for n in range(count)
        )
    return list(AuditEntry.objects.order_by("-id").values_list("id", flat=True)[:count])


def link(html: str, marker: str) -> str | None:
    """The href of the pager link carrying `marker`, unescaped."""
    match = re.search(rf'href="([^"]*)" {marker}', html)
    return match.group(1).replace("&amp;", "&") if match else None


# Who may look


def test_anonymous_visitors_are_asked_to_sign_in(client):
    for url in (reverse("audit:list"), reverse("audit:detail", args=[1]), reverse("audit:export")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["moderator", "outsider"])
def test_moderators_and_users_without_a_role_are_refused(client, request, who):
    client.force_login(request.getfixturevalue(who))
    row = audit_row()
    for url in (
        reverse("audit:list"),
        reverse("audit:detail", args=[row.pk]),
        reverse("audit:export"),
    ):
        assert client.get(url).status_code == 403
    assert AuditEntry.objects.filter(action="export").count() == 0


@pytest.mark.parametrize("who", ["lead", "auditor"])
def test_leads_and_auditors_see_the_log_and_may_export(client, request, who):
    client.force_login(request.getfixturevalue(who))
    audit_row()
    response = client.get(reverse("audit:list"))
    assert response.status_code == 200
    assert 'href="/audit/export.csv" data-export' in response.content.decode()


def test_export_link_needs_the_export_permission(client):
    client.force_login(user_with("viewer", "view_audit_log"))
    audit_row()
    response = client.get(reverse("audit:list"), {"account": "alice"})
    assert response.status_code == 200
    assert "Export CSV" not in response.content.decode()


def test_export_link_carries_the_filters(as_lead):
    audit_row()
    html = as_lead.get(
        reverse("audit:list") + "?account=alice&action=query&action=change&since=2026-11-01"
    ).content.decode()
    assert link(html, "data-export") == (
        "/audit/export.csv?account=alice&action=query&action=change&since=2026-11-01"
    )


# What each row says


def test_rows_show_local_time_with_the_zone_named(as_lead, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    audit_row(at=datetime(2026, 11, 24, 16, 30, 5, tzinfo=UTC))
    html = as_lead.get(reverse("audit:list")).content.decode()
    assert "Time (Asia/Shanghai)" in html
    assert "2026-11-25 00:30:05" in html


def test_rows_put_lengths_into_words(as_lead):
    audit_row(
        action="change",
        c2c_requested=PERMANENT,
        group_requested=0,
        c2c_observed=PERMANENT,
        group_observed=0,
    )
    audit_row(
        action="change",
        c2c_requested=3 * 3600 + 60,
        group_requested=None,
        c2c_observed=3 * 3600 + 60,
        group_observed=600,
    )
    html = as_lead.get(reverse("audit:list")).content.decode()
    cells = re.findall(r'<td class="values"[^>]*>([^<]*)</td>', html)
    assert cells == [
        "C2C: 3 h 1 min\nGroup: unchanged",
        "C2C: muted, 3 h 1 min left\nGroup: muted, 10 min left",
        "C2C: permanent\nGroup: lift",
        "C2C: permanently muted\nGroup: not muted",
    ]


def test_queries_show_what_was_observed_and_nothing_requested(as_lead):
    audit_row(action="query", c2c_observed=0, group_observed=86400)
    html = as_lead.get(reverse("audit:list")).content.decode()
    cells = re.findall(r'<td class="values"[^>]*>([^<]*)</td>', html)
    assert cells == ["—", "C2C: not muted\nGroup: muted, 1 d left"]


def test_rows_link_to_the_account_and_the_detail_page(as_lead):
    row = audit_row(account="carol", error_code=70107, outcome="error")
    html = as_lead.get(reverse("audit:list")).content.decode()
    assert f'href="{reverse("mutes:account", args=["carol"])}"' in html
    assert f'href="{reverse("audit:detail", args=[row.pk])}"' in html
    assert '<td data-label="Error">70107</td>' in html
    assert 'class="outcome outcome-error">Error<' in html


@pytest.mark.parametrize(
    "account", ["a/b?c#d%e f", "x'y\"z&<w>", "~:@!$&'()*+,;=", "..", "ü-é", "-=1+2"]
)
def test_account_links_are_quoted_as_the_url_resolver_quotes_them(as_lead, account):
    audit_row(account=account, reason=f"<b>{account}</b>")
    html = as_lead.get(reverse("audit:list")).content.decode()
    expected = reverse("mutes:account", args=[account]).replace("&", "&amp;").replace("'", "&#x27;")
    assert f'<a href="{expected}"><code class="account">' in html
    assert f'<code class="account">{escape(account)}</code>' in html
    assert f'title="{escape(f"<b>{account}</b>")}"' in html


def test_a_row_without_an_account_or_operator_says_so(as_lead):
    audit_row(action="export", account="", operator="", outcome="pending")
    html = as_lead.get(reverse("audit:list")).content.decode()
    row = re.search(r"<tr data-entry=.*?</tr>", html, re.S).group(0)
    assert '<span class="none">—</span>' in row
    assert '<td data-label="Operator">—</td><td data-label="Action">Export</td>' in row
    assert 'class="outcome outcome-pending">Pending<' in row
    assert "mutes/" not in row


def test_long_reasons_are_truncated_in_the_list(as_lead):
    audit_row(action="change", reason="flooding " * 30)
    html = as_lead.get(reverse("audit:list")).content.decode()
    assert f'title="{"flooding " * 29}flooding "' in html
    cell = re.search(r'<td class="reason"[^>]*>([^<]*)</td>', html).group(1)
    assert len(cell) <= 60
    assert cell.endswith("…")


@pytest.mark.parametrize(
    ("reason", "preview"),
    [
        ("e\u0301" * 60, "é" * 60),  # 120 code points, 60 letters once composed: all shown
        ("é" * 61, "é" * 59 + "…"),
        ("x" * 60, "x" * 60),
    ],
)
def test_reasons_are_cut_by_letters_as_seen(as_lead, reason, preview):
    audit_row(action="change", reason=reason)
    html = as_lead.get(reverse("audit:list")).content.decode()
    assert re.search(r'<td class="reason"[^>]*>([^<]*)</td>', html).group(1) == preview


def test_markup_in_account_and_reason_is_shown_as_text(as_lead):
    row = audit_row(
        action="change",
        account="<img src=x onerror=alert(1)>",
        reason='<script>alert("r")</script>',
    )
    for url in (reverse("audit:list"), reverse("audit:detail", args=[row.pk])):
        html = as_lead.get(url).content.decode()
        assert "<img src=x" not in html
        assert "<script>alert" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
        assert "&lt;script&gt;alert(&quot;r&quot;)&lt;/script&gt;" in html


# Paging by cursor


def test_fifty_rows_a_page_and_a_sign_that_more_exist(as_lead):
    ids = many_rows(PAGE_SIZE + 1)
    response = as_lead.get(reverse("audit:list"))
    assert shown(response) == ids[:PAGE_SIZE]
    html = response.content.decode()
    assert "More rows are older than these." in html
    assert link(html, "data-older") == f"/audit/?before={ids[PAGE_SIZE - 1]}"
    assert link(html, "data-newer") is None
    last = as_lead.get(link(html, "data-older"))
    assert shown(last) == ids[PAGE_SIZE:]
    last_html = last.content.decode()
    assert "No older rows match." in last_html
    assert link(last_html, "data-older") is None
    assert link(last_html, "data-newer") == f"/audit/?after={ids[PAGE_SIZE]}"


def test_exactly_one_page_has_no_older_link(as_lead):
    many_rows(PAGE_SIZE)
    html = as_lead.get(reverse("audit:list")).content.decode()
    assert link(html, "data-older") is None
    assert "More rows are older" not in html


def test_walking_older_then_newer_while_rows_arrive_skips_and_repeats_nothing(as_lead):
    original = many_rows(3 * PAGE_SIZE + 7)
    seen: list[int] = []
    url = reverse("audit:list")
    while url:
        response = as_lead.get(url)
        page = shown(response)
        assert page == sorted(page, reverse=True)
        seen += page
        many_rows(3)  # new rows arrive between page loads
        url = link(response.content.decode(), "data-older")
    # The first page was read before anything arrived; later pages only go further back.
    assert seen == original

    oldest_page = page
    back: list[int] = []
    url = link(response.content.decode(), "data-newer")
    while url:
        many_rows(2)
        response = as_lead.get(url)
        page = shown(response)
        assert page == sorted(page, reverse=True)
        back = page + back
        url = link(response.content.decode(), "data-newer")
    # Walking back up reaches every row, including all that arrived meanwhile, each once.
    every_row = list(AuditEntry.objects.order_by("-id").values_list("id", flat=True))
    assert back + oldest_page == every_row


def test_paging_links_keep_the_filters(as_lead):
    many_rows(PAGE_SIZE + 5, action="change", account="dave")
    many_rows(10, action="query", account="dave")
    response = as_lead.get(reverse("audit:list") + "?account=dave&action=change&outcome=ok")
    older = link(response.content.decode(), "data-older")
    assert older.startswith("/audit/?account=dave&action=change&outcome=ok&before=")
    second = as_lead.get(older)
    assert len(shown(second)) == 5
    assert AuditEntry.objects.filter(pk__in=shown(second)).exclude(action="change").count() == 0
    newer = link(second.content.decode(), "data-newer")
    assert newer.startswith("/audit/?account=dave&action=change&outcome=ok&after=")
    assert len(shown(as_lead.get(newer))) == PAGE_SIZE


def test_the_list_page_runs_a_handful_of_queries(as_lead, django_assert_max_num_queries):
    many_rows(PAGE_SIZE * 3)
    newest = AuditEntry.objects.order_by("-id").first().pk
    for query in (
        "",
        f"?before={newest - 60}",
        f"?after={newest - 120}",
        "?account=user3&operator=mod&q=x&action=query&since=2026-01-01&until=2030-01-01",
        "?action=change&outcome=ok&since=2026-11-01 10:30&until=2030-01-01",
    ):
        with django_assert_max_num_queries(10):
            assert as_lead.get(reverse("audit:list") + query).status_code == 200


# One row's detail


def test_detail_page_shows_every_field(as_auditor, settings):
    settings.TIME_ZONE = "America/New_York"
    at = datetime(2026, 11, 25, 3, 4, 5, tzinfo=UTC)
    row = audit_row(
        at=at,
        action="change",
        account="erin",
        operator="lead",
        c2c_requested=PERMANENT,
        group_requested=0,
        c2c_observed=PERMANENT,
        group_observed=0,
        reason="raid\nsecond line",
        outcome="error",
        error_code=70107,
        error_info="account not imported",
        latency_ms=321,
        request_random=987654,
        client_ip="203.0.113.9",
        details={"filters": {"account": ["erin"]}, "rows": 12},
        chain_seq=42,
        chain_hash="ab" * 32,
    )
    response = as_auditor.get(reverse("audit:detail", args=[row.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    fields = dict(re.findall(r'<dd data-field="(\w+)"[^>]*>(.*?)</dd>', html, re.S))
    assert (
        "2026-11-24 22:04:05" in fields["created_at"] and "America/New_York" in fields["created_at"]
    )
    assert fields["operator"].startswith("lead")
    assert fields["action"] == "Change"
    assert 'href="/mutes/erin/"' in fields["account"]
    assert "4294967295" in fields["c2c_requested"] and "permanent" in fields["c2c_requested"]
    assert "lift" in fields["group_requested"]
    assert "permanently muted" in fields["c2c_observed"]
    assert "not muted" in fields["group_observed"]
    assert fields["reason"] == "raid\nsecond line"
    assert "Error" in fields["outcome"]
    assert fields["error_code"] == "70107"
    assert fields["error_info"] == "account not imported"
    assert fields["latency_ms"] == "321 ms"
    assert "987654" in fields["request_random"]
    assert fields["client_ip"] == "203.0.113.9"
    assert fields["chain_seq"] == "42"
    assert "ab" * 32 in fields["chain_hash"]
    pretty = json.dumps({"filters": {"account": ["erin"]}, "rows": 12}, indent=2, sort_keys=True)
    assert pretty.replace('"', "&quot;") in fields["details"]


def test_detail_of_an_unknown_row_is_not_found(as_lead):
    assert as_lead.get(reverse("audit:detail", args=[999999])).status_code == 404
    assert as_lead.get(reverse("audit:detail", args=[10**30])).status_code == 404


# The chart of actions per day


def chart_days(html: str) -> dict[str, dict[str, int]]:
    """Per day drawn: the count each bar of the stack carries."""
    days = {}
    for day, body in re.findall(r'<g class="day" data-day="([\d-]+)"[^>]*>(.*?)</g>', html, re.S):
        days[day] = {
            action: int(count)
            for action, count in re.findall(r'data-action="(\w+)" data-count="(\d+)"', body)
        }
    return days


def hourly(
    hour: datetime, action: str, count: int, outcome: str = "ok", operator: str = ""
) -> None:
    if operator:
        AuditOperatorHourlyCount.objects.create(
            operator_username=operator, hour=hour, action=action, outcome=outcome, count=count
        )
    else:
        AuditHourlyCount.objects.create(hour=hour, action=action, outcome=outcome, count=count)


def test_chart_has_one_bar_per_day_of_the_last_month_by_default(as_lead):
    today = timezone.localdate()
    html = as_lead.get(reverse("audit:list")).content.decode()
    days = chart_days(html)
    assert len(days) == CHART_DEFAULT_DAYS
    drawn = list(days)
    assert drawn[-1] == today.isoformat()
    assert drawn[0] == (today - timedelta(days=CHART_DEFAULT_DAYS - 1)).isoformat()


def test_chart_is_plain_svg_the_policy_allows(as_lead):
    audit_row()
    html = as_lead.get(reverse("audit:list")).content.decode()
    svg = re.search(r"<svg class=\"chart\".*?</svg>", html, re.S).group(0)
    assert "style=" not in html
    assert "<script" not in html
    assert "Day (UTC)" in svg and ">Rows<" in svg
    assert 'class="tick"' in svg and 'class="day-label"' in svg
    assert re.search(r'<li data-legend="change">.*?Change', html, re.S)


def test_chart_sums_the_hourly_counts_into_local_days(as_lead, settings):
    settings.TIME_ZONE = "America/New_York"
    # 04:00 UTC on the 25th is 23:00 on the 24th in New York.
    hourly(datetime(2026, 11, 25, 4, tzinfo=UTC), "query", 5)
    hourly(datetime(2026, 11, 25, 4, tzinfo=UTC), "query", 2, outcome="error")
    hourly(datetime(2026, 11, 25, 5, tzinfo=UTC), "change", 3)
    hourly(datetime(2026, 11, 26, 4, 59, tzinfo=UTC).replace(minute=0), "export", 1)
    hourly(datetime(2026, 11, 28, 5, tzinfo=UTC), "query", 100)  # after the range
    html = as_lead.get(
        reverse("audit:list"), {"since": "2026-11-23", "until": "2026-11-25"}
    ).content.decode()
    assert chart_days(html) == {
        "2026-11-23": {},
        "2026-11-24": {"query": 7},
        "2026-11-25": {"change": 3, "export": 1},
    }
    errors = as_lead.get(
        reverse("audit:list"), {"since": "2026-11-23", "until": "2026-11-25", "outcome": "error"}
    )
    assert chart_days(errors.content.decode())["2026-11-24"] == {"query": 2}
    changes = as_lead.get(
        reverse("audit:list"),
        {"since": "2026-11-23", "until": "2026-11-25", "action": ["change", "export"]},
    )
    assert chart_days(changes.content.decode())["2026-11-25"] == {"change": 3, "export": 1}
    assert chart_days(changes.content.decode())["2026-11-24"] == {}


def test_an_operators_chart_sums_that_operators_hourly_counts(settings):
    settings.TIME_ZONE = "America/New_York"
    hourly(datetime(2026, 11, 25, 4, tzinfo=UTC), "query", 50)  # everyone: not read
    hourly(datetime(2026, 11, 25, 4, tzinfo=UTC), "query", 5, operator="mod")
    hourly(datetime(2026, 11, 25, 4, tzinfo=UTC), "query", 2, outcome="error", operator="mod")
    hourly(datetime(2026, 11, 25, 5, tzinfo=UTC), "change", 3, operator="mod")
    hourly(datetime(2026, 11, 25, 5, tzinfo=UTC), "change", 7, operator="other")
    hourly(datetime(2026, 11, 26, 4, tzinfo=UTC), "export", 1, operator="mod")
    hourly(datetime(2026, 11, 28, 5, tzinfo=UTC), "query", 100, operator="mod")  # after
    days = [date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)]

    def drawn(query: str) -> list[dict[str, int]]:
        filters = filters_from(f"since=2026-11-23&until=2026-11-25&{query}")
        return [
            {action: n for action, n in day.counts.items() if n}
            for day in audit_daily_counts(filters=filters, days=days)
        ]

    assert drawn("operator=mod") == [{}, {"query": 7}, {"change": 3, "export": 1}]
    assert drawn("operator=mod&outcome=error") == [{}, {"query": 2}, {}]
    assert drawn("operator=mod&action=change&action=query") == [{}, {"query": 7}, {"change": 3}]
    assert drawn("operator=other") == [{}, {}, {"change": 7}]
    assert drawn("operator=nobody") == [{}, {}, {}]
    assert drawn("") == [{}, {"query": 50}, {}]


def test_an_operators_partly_covered_hours_count_only_that_operators_rows():
    for minute, operator in ((10, "mod"), (40, "mod"), (45, "other"), (50, "mod")):
        audit_row(at=datetime(2026, 11, 24, 10, minute, tzinfo=UTC), operator=operator)
    audit_row(at=datetime(2026, 11, 24, 11, 5, tzinfo=UTC), operator="mod", action="change")
    audit_derived_rebuild()
    filters = filters_from("operator=mod&since=2026-11-24T10:30&until=2026-11-24")
    counts = audit_daily_counts(filters=filters, days=[date(2026, 11, 24)])
    assert counts[0].counts == NO_ROWS | {"query": 2, "change": 1, "export": 0}


def test_chart_counts_rows_of_a_partly_covered_hour_one_by_one():
    # Whole hours come from the hourly table; the half hour after 10:30 is counted from rows.
    for minute in (10, 40):
        audit_row(at=datetime(2026, 11, 24, 10, minute, tzinfo=UTC), action="change")
    audit_row(at=datetime(2026, 11, 24, 11, 15, tzinfo=UTC), action="change")
    hourly(datetime(2026, 11, 24, 10, tzinfo=UTC), "change", 2)
    hourly(datetime(2026, 11, 24, 11, tzinfo=UTC), "change", 1)
    filters = filters_from("since=2026-11-24T10:30&until=2026-11-24")
    counts = audit_daily_counts(filters=filters, days=[date(2026, 11, 24)])
    assert counts[0].counts == NO_ROWS | {"query": 0, "change": 2, "export": 0}
    inside_one_hour = filters_from("since=2026-11-24T10:30&until=2026-11-24T10:50")
    counts = audit_daily_counts(filters=inside_one_hour, days=[date(2026, 11, 24)])
    assert counts[0].total == 1


@pytest.mark.parametrize("zone_name", ["Asia/Shanghai", "America/New_York"])
def test_chart_counts_filtered_rows_directly_by_local_day(as_lead, settings, zone_name):
    settings.TIME_ZONE = zone_name
    zone = ZoneInfo(zone_name)
    audit_row(at=datetime(2026, 11, 23, 12, tzinfo=zone), account="frank", action="change")
    audit_row(at=datetime(2026, 11, 24, 23, 59, tzinfo=zone), account="frank")
    audit_row(at=datetime(2026, 11, 24, 23, 59, 30, tzinfo=zone), account="grace")
    audit_row(at=datetime(2026, 11, 25, 0, 0, tzinfo=zone), account="frank")
    audit_row(at=datetime(2026, 11, 25, 0, 1, tzinfo=zone), account="frank", action="change")
    audit_row(at=datetime(2026, 11, 26, 8, tzinfo=zone), account="frank", action="export")
    # The hourly table is not read when an account is given.
    hourly(datetime(2026, 11, 24, 10, tzinfo=UTC), "query", 50)
    params = {"account": "frank", "since": "2026-11-23", "until": "2026-11-25"}
    html = as_lead.get(reverse("audit:list"), params).content.decode()
    assert chart_days(html) == {
        "2026-11-23": {"change": 1},
        "2026-11-24": {"query": 1},
        "2026-11-25": {"query": 1, "change": 1},
    }
    # A moment inside the first day leaves out what came before it.
    params = {"account": "frank", "since": "2026-11-25 00:00:30", "until": "2026-11-26"}
    html = as_lead.get(reverse("audit:list"), params).content.decode()
    assert chart_days(html) == {"2026-11-25": {"change": 1}, "2026-11-26": {"export": 1}}
    html = as_lead.get(
        reverse("audit:list"),
        {"q": "nothing matches", "since": "2026-11-24", "until": "2026-11-24"},
    ).content.decode()
    assert chart_days(html) == {"2026-11-24": {}}


@pytest.mark.parametrize("zone_name", ["Asia/Shanghai", "America/New_York"])
def test_counting_in_the_database_and_in_hand_agree(settings, zone_name):
    settings.TIME_ZONE = zone_name
    zone = ZoneInfo(zone_name)
    for at, action in (
        (datetime(2026, 11, 23, 0, 0, tzinfo=zone), "change"),
        (datetime(2026, 11, 23, 23, 59, 59, tzinfo=zone), "query"),
        (datetime(2026, 11, 24, 0, 0, tzinfo=zone), "query"),
        (datetime(2026, 11, 24, 12, 0, tzinfo=zone), "export"),
        (datetime(2026, 11, 25, 0, 0, tzinfo=zone), "query"),
    ):
        audit_row(at=at, account="frank", action=action)
    # An operator alone is counted from the hourly counts per operator.
    audit_derived_rebuild()
    days = [date(2026, 11, 23), date(2026, 11, 24)]
    for query in ("account=frank", "account=frank&since=2026-11-23T12:00", "q=", "q=o"):
        filters = filters_from(query + "&operator=mod")
        in_database = audit_daily_counts(filters=filters, days=days)
        every_row = list(audit_filtered(filters=filters))
        in_hand = audit_daily_counts(filters=filters, days=days, every_row=every_row)
        assert in_database == in_hand
    whole_days = audit_daily_counts(filters=filters_from("account=frank"), days=days)
    assert [day.counts for day in whole_days] == [
        NO_ROWS | {"query": 1, "change": 1, "export": 0},
        NO_ROWS | {"query": 1, "change": 0, "export": 1},
    ]


def test_chart_range_follows_since_and_until():
    today = date(2026, 11, 25)
    assert audit_chart_days(filters=filters_from("since=2026-11-20"), today=today) == [
        date(2026, 11, day) for day in range(20, 26)
    ]
    until_only = audit_chart_days(filters=filters_from("until=2026-10-31"), today=today)
    assert until_only[-1] == date(2026, 10, 31)
    assert len(until_only) == CHART_DEFAULT_DAYS
    years = audit_chart_days(filters=filters_from("since=2020-01-01&until=2026-11-25"), today=today)
    assert len(years) == CHART_MAX_DAYS
    assert years[-1] == date(2026, 11, 25)


def test_a_long_range_says_only_its_latest_days_are_drawn(as_lead):
    html = as_lead.get(reverse("audit:list"), {"since": "2020-01-01"}).content.decode()
    assert f"only its latest {CHART_MAX_DAYS} days are drawn" in html
    assert len(chart_days(html)) == CHART_MAX_DAYS


def test_chart_counts_rows_written_through_the_audit_service(as_lead, lead):
    from muteadmin.audit.services import audit_begin, audit_complete

    for action, account in (("query", "heidi"), ("change", "heidi"), ("query", "ivan")):
        entry = audit_begin(operator=lead, action=action, account=account)
        audit_complete(entry=entry, outcome="ok", latency_ms=5, request_random=1)
    today = timezone.localdate().isoformat()
    everyone = chart_days(as_lead.get(reverse("audit:list")).content.decode())
    assert everyone[today] == {"query": 2, "change": 1}
    heidi = chart_days(as_lead.get(reverse("audit:list"), {"account": "heidi"}).content.decode())
    assert heidi[today] == {"query": 1, "change": 1}


def test_every_day_of_a_long_range_gets_its_own_count(as_lead):
    first = date(2026, 9, 1)
    expected = {}
    for offset in range(45):
        day = first + timedelta(days=offset)
        count = offset % 4
        for n in range(count):
            at = datetime(day.year, day.month, day.day, 12, n, tzinfo=UTC)
            audit_row(at=at, account="judy", action="change" if n % 2 else "query")
        if count:
            hourly(datetime(day.year, day.month, day.day, 12, tzinfo=UTC), "query", count)
        expected[day.isoformat()] = count
    params = {"since": "2026-09-01", "until": "2026-10-15"}
    from_hourly = chart_days(as_lead.get(reverse("audit:list"), params).content.decode())
    assert {day: sum(bars.values()) for day, bars in from_hourly.items()} == expected
    from_rows = chart_days(
        as_lead.get(reverse("audit:list"), params | {"account": "judy"}).content.decode()
    )
    assert {day: sum(bars.values()) for day, bars in from_rows.items()} == expected
    assert from_rows["2026-09-04"] == {"query": 2, "change": 1}
