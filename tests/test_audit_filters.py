"""The audit page's filters, alone and together, with days bounded in the moderator's zone."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Count
from django.http import QueryDict
from django.urls import reverse

from muteadmin.audit.filters import AuditFilterForm
from muteadmin.audit.selectors import audit_filtered
from tests.conftest import audit_row, templates_drawn

pytestmark = pytest.mark.django_db


def filters_from(query: str):
    """The filters a query string asks for, as the page reads them."""
    form = AuditFilterForm(data=QueryDict(query))
    assert form.is_valid(), form.errors
    return form.filters()


def shown(response) -> list[int]:
    """The ids of the rows the audit page lists, top to bottom."""
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'<tr data-entry="(\d+)"', response.content.decode())]


def listed(client, **params) -> list[int]:
    return shown(client.get(reverse("audit:list"), params))


@pytest.fixture
def history():
    """A small history: two accounts, two operators, every action and outcome."""
    start = datetime(2026, 11, 20, 8, tzinfo=UTC)
    rows = {
        "alice_query": audit_row(at=start, account="alice", operator="mod"),
        "alice_change": audit_row(
            at=start + timedelta(minutes=1),
            action="change",
            account="alice",
            operator="mod",
            c2c_requested=600,
            reason="Spam in the lobby",
        ),
        "bob_change_error": audit_row(
            at=start + timedelta(minutes=2),
            action="change",
            outcome="error",
            account="bob",
            operator="lead",
            group_requested=0,
            reason="appeal accepted",
            error_code=70107,
        ),
        "alice2_query": audit_row(at=start + timedelta(minutes=3), account="alice2"),
        "Alice_query": audit_row(at=start + timedelta(minutes=4), account="Alice"),
        "export": audit_row(
            at=start + timedelta(minutes=5), action="export", account="", operator="lead"
        ),
        "bob_pending": audit_row(
            at=start + timedelta(minutes=6), account="bob", outcome="pending", latency_ms=None
        ),
    }
    return {name: row.pk for name, row in rows.items()}


def test_no_filter_lists_every_row_newest_first(as_lead, history):
    assert listed(as_lead) == sorted(history.values(), reverse=True)


def test_account_is_matched_exactly(as_lead, history):
    ids = listed(as_lead, account="alice")
    assert ids == [history["alice_change"], history["alice_query"]]


def test_operator_filter(as_lead, history):
    assert listed(as_lead, operator="lead") == [history["export"], history["bob_change_error"]]


def test_several_actions_at_once(as_auditor, history):
    response = as_auditor.get(reverse("audit:list") + "?action=change&action=export")
    assert shown(response) == [
        history["export"],
        history["bob_change_error"],
        history["alice_change"],
    ]
    html = response.content.decode()
    assert re.search(r'<input[^>]*value="change"[^>]*checked', html)
    assert re.search(r'<input[^>]*value="export"[^>]*checked', html)
    assert not re.search(r'<input[^>]*value="query"[^>]*checked', html)


def test_outcome_filter(as_lead, history):
    assert listed(as_lead, outcome="error") == [history["bob_change_error"]]
    assert listed(as_lead, outcome="pending") == [history["bob_pending"]]


def test_text_is_searched_in_the_reason_ignoring_case(as_lead, history):
    assert listed(as_lead, q="spam") == [history["alice_change"]]
    assert listed(as_lead, q="APPEAL") == [history["bob_change_error"]]


def sqlite_plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " / ".join(str(row[-1]) for row in cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's query plans")
def test_text_search_and_its_chart_read_only_the_index_of_rows_with_a_reason():
    from muteadmin.audit.selectors import _DayIndex

    rows = audit_filtered(filters=filters_from("q=spam"))
    assert "USING INDEX audit_reason_recent" in sqlite_plan(rows[:51])
    bounds = [datetime(2026, 11, day, tzinfo=UTC) for day in (23, 24, 25)]
    per_day = (
        rows.filter(id__gte=1, id__lt=10**6)
        .order_by()
        .annotate(day_index=_DayIndex("created_at", bounds))
        .values("day_index", "action")
        .annotate(total=Count("id"))
    )
    assert "USING COVERING INDEX audit_reason_recent" in sqlite_plan(per_day)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL index")
def test_postgresql_has_a_trigram_index_for_what_text_search_asks():
    # reason__icontains is UPPER(reason) LIKE UPPER(%s) there: the index must be on that.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s", ["audit_reason_trigrams"]
        )
        (definition,) = cursor.fetchone()
    assert "USING gin (upper(reason) gin_trgm_ops)" in definition
    assert "WHERE (NOT (reason = ''::text))" in definition


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's query plans")
def test_an_accounts_chart_reads_only_the_account_index():
    from muteadmin.audit.selectors import _DayIndex

    bounds = [datetime(2026, 11, day, tzinfo=UTC) for day in (23, 24, 25)]
    per_day = (
        audit_filtered(filters=filters_from("account=alice"))
        .filter(id__gte=1, id__lt=10**6)
        .order_by()
        .annotate(day_index=_DayIndex("created_at", bounds))
        .values("day_index", "action")
        .annotate(total=Count("id"))
    )
    assert "USING COVERING INDEX audit_account_recent" in sqlite_plan(per_day)


def test_the_search_index_holds_reasons_on_sqlite_only():
    # A PostgreSQL btree entry must fit in about 2.7 kB, which a reason need not.
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'audit_reason_recent'")
        else:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'audit_reason_recent'"
            )
        (definition,) = cursor.fetchone()
    created, condition = definition.split("WHERE")
    columns = created[created.index("(") :]
    assert "reason" in condition
    assert ("reason" in columns) == (connection.vendor == "sqlite")


def test_filters_combine(as_lead, history):
    assert listed(as_lead, account="bob", action="change") == [history["bob_change_error"]]
    assert listed(as_lead, account="bob", outcome="ok") == []
    assert listed(as_lead, operator="mod", action="query", account="alice2") == [
        history["alice2_query"]
    ]
    assert listed(as_lead, account="alice", q="lobby", outcome="ok", action="change") == [
        history["alice_change"]
    ]


def test_filters_stay_in_the_form_for_sharing(as_lead, history):
    html = as_lead.get(reverse("audit:list"), {"account": "bob", "q": "appeal"}).content.decode()
    assert re.search(r'name="account"[^>]*value="bob"', html)
    assert re.search(r'name="q"[^>]*value="appeal"', html)


# Days begin and end in the moderator's zone.


@pytest.fixture(params=["Asia/Shanghai", "America/New_York"])
def zone(request, settings) -> ZoneInfo:
    settings.TIME_ZONE = request.param
    return ZoneInfo(request.param)


@pytest.fixture
def day_edge(zone):
    """Rows one minute either side of midnight between the 24th and 25th, local time."""
    before = audit_row(at=datetime(2026, 11, 24, 23, 59, tzinfo=zone), account="edge")
    after = audit_row(at=datetime(2026, 11, 25, 0, 0, tzinfo=zone), account="edge")
    return before.pk, after.pk


def test_since_a_date_starts_at_local_midnight(as_lead, day_edge):
    late_on_24th, midnight_25th = day_edge
    assert listed(as_lead, since="2026-11-25") == [midnight_25th]
    assert listed(as_lead, since="2026-11-24") == [midnight_25th, late_on_24th]


def test_until_a_date_runs_to_the_end_of_that_local_day(as_lead, day_edge):
    late_on_24th, midnight_25th = day_edge
    assert listed(as_lead, until="2026-11-24") == [late_on_24th]
    assert listed(as_lead, until="2026-11-25") == [midnight_25th, late_on_24th]


def test_since_and_until_as_local_date_times(as_lead, day_edge):
    late_on_24th, midnight_25th = day_edge
    assert listed(as_lead, since="2026-11-24 23:59") == [midnight_25th, late_on_24th]
    assert listed(as_lead, since="2026-11-24T23:59:30") == [midnight_25th]
    # until is exclusive: the moment itself is left out.
    assert listed(as_lead, until="2026-11-25 00:00") == [late_on_24th]
    assert listed(as_lead, since="2026-11-24 23:00", until="2026-11-24 23:59:01") == [late_on_24th]


def test_one_day_from_since_to_until(as_lead, day_edge):
    late_on_24th, _ = day_edge
    assert listed(as_lead, since="2026-11-24", until="2026-11-24") == [late_on_24th]


def test_the_form_turns_local_days_into_utc_bounds(zone):
    filters = filters_from("since=2026-11-25&until=2026-11-25")
    midnight = datetime(2026, 11, 25, tzinfo=zone)
    assert filters.since == midnight
    assert filters.until == midnight + timedelta(days=1)
    assert filters.since.utcoffset() == timedelta(0)


def test_time_filters_on_rows_in_the_selector(day_edge, zone):
    _, midnight_25th = day_edge
    filters = filters_from("since=2026-11-25")
    assert list(audit_filtered(filters=filters).values_list("id", flat=True)) == [midnight_25th]


def test_a_range_after_every_row_lists_nothing(as_lead, day_edge):
    assert listed(as_lead, since="2030-01-01") == []
    assert listed(as_lead, until="2020-01-01") == []


# Filters that make no sense are shown as form errors, never as a server error.


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"action": "delete"}, "Select a valid choice"),
        ({"outcome": "maybe"}, "Select a valid choice"),
        ({"since": "yesterday"}, "Enter a date as 2026-11-25"),
        ({"until": "2026-13-45"}, "Enter a date as 2026-11-25"),
        ({"since": "2026-11-25", "until": "2026-11-24"}, "swap them"),
        ({"account": "x" * 65}, "at most 64 characters"),
    ],
)
def test_invalid_filters_show_errors_and_no_rows(as_lead, history, params, message):
    response = as_lead.get(reverse("audit:list"), params)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert shown(response) == []
    assert "until the filters above are corrected" in html
    assert "data-export" not in html
    assert "data-chart" not in html


@pytest.mark.parametrize(
    "params",
    [
        {"before": "abc"},
        {"after": "-4"},
        {"before": "1e9"},
        {"before": "²"},
        {"before": "0"},
        {"before": "5", "after": "2"},
    ],
)
def test_damaged_page_links_are_explained(as_lead, history, params):
    response = as_lead.get(reverse("audit:list"), params)
    assert response.status_code == 200
    assert "data-cursor-error" in response.content.decode()
    assert shown(response) == []


@pytest.mark.parametrize("param", ["before", "after"])
def test_a_cursor_past_any_id_is_harmless(as_lead, history, param):
    response = as_lead.get(reverse("audit:list"), {param: "9" * 30})
    expected = sorted(history.values(), reverse=True) if param == "before" else []
    assert shown(response) == expected


@pytest.mark.parametrize(
    "query",
    [
        "",
        "account=alice&operator=mod&action=query&action=export&outcome=error&q=spam",
        "account=a\"b<c>&d'e&operator=<script>&q=%3D1%2B2&since=2026-11-24 10:30&until=2026-11-25",
        "action=delete&outcome=maybe&since=yesterday&until=2026-13-45&account=" + "x" * 65,
        "since=2026-11-25&until=2026-11-24&outcome=",
        "action=change&action=change&account=%20padded%20",
    ],
)
def test_the_filter_form_is_drawn_as_djangos_templates_draw_it(query):
    from muteadmin.audit.views import FILTER_FORM_RENDERER

    def drawn(renderer) -> list[str]:
        """Each widget as the page draws it (the actions one checkbox at a time)."""
        form = AuditFilterForm(data=QueryDict(query), renderer=renderer)
        form.is_valid()
        fields = [str(form[name]) for name in form.fields if name != "action"]
        return fields + [str(choice.tag()) for choice in form["action"]]

    expected = drawn(None)
    # Drawn without the template engine, and the same.
    with templates_drawn() as templates:
        fast = drawn(FILTER_FORM_RENDERER)
    assert (fast, templates) == (expected, [])


def test_job_filter_shows_only_that_jobs_rows(as_lead, lead):
    from muteadmin.audit.services import audit_begin, audit_complete

    for job_id, account in ((7, "in-job"), (8, "other-job"), (None, "no-job")):
        entry = audit_begin(operator=lead, action="query", account=account, job_id=job_id)
        audit_complete(entry=entry, outcome="ok", latency_ms=1, request_random=1)
    html = as_lead.get(reverse("audit:list"), {"job": "7"}).content.decode()
    assert "in-job" in html
    assert "other-job" not in html
    assert "no-job" not in html
    assert 'name="job" value="7"' in html
    bad = as_lead.get(reverse("audit:list"), {"job": "seven"}).content.decode()
    assert "named by its number" in bad
