"""The audit log as an .xlsx download: the CSV's rows as typed cells, filtered, and audited."""

import io
from datetime import UTC, datetime

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.workbooks import audit_export_records
from muteadmin.core.workbooks import XLSX_CONTENT_TYPE
from muteadmin.tencent.nospeaking import PERMANENT
from tests.conftest import audit_row
from tests.test_audit_filters import filters_from
from tests.test_workbooks import chinese_catalog  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

HEADER = (
    "ID",
    "Time (UTC)",
    "Operator",
    "Action",
    "Account",
    "C2C mute asked for",
    "Group mute asked for",
    "C2C mute seen",
    "Group mute seen",
    "Reason",
    "Outcome",
    "Error code",
    "Error message",
    "Latency (ms)",
    "On behalf of",
    "Rule",
)


def workbook(client, query: str = "", **headers):
    """The download's response and its first sheet's cells (header first), read to the end."""
    response = client.get(reverse("audit:export") + "?format=xlsx" + query, **headers)
    assert response.status_code == 200
    assert response.streaming
    data = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return response, [list(row) for row in sheet.iter_rows()]


def values(rows) -> list[list]:
    return [[cell.value for cell in row] for row in rows]


def test_the_download_is_an_xlsx_attachment_with_translatable_headings(as_lead):
    audit_row()
    response, rows = workbook(as_lead)
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert response["Content-Disposition"] == (
        f'attachment; filename="muteadmin-audit-{timezone.localdate():%Y-%m-%d}.xlsx"'
    )
    assert tuple(values(rows)[0]) == HEADER


def test_every_column_is_a_typed_cell_with_lengths_in_words(as_lead):
    row = audit_row(
        at=datetime(2026, 11, 24, 17, 0, 5, tzinfo=UTC),
        action="change",
        account="bob",
        operator="lead",
        c2c_requested=PERMANENT,
        group_requested=7 * 86400 + 2 * 3600,
        c2c_observed=PERMANENT,
        group_observed=0,
        reason="raid",
        outcome="error",
        error_code=70107,
        error_info="not imported",
        latency_ms=123,
        on_behalf_of="mod",
        rule="spam",
    )
    _, rows = workbook(as_lead)
    cells = rows[1]
    assert values([cells])[0] == [
        row.pk,
        datetime(2026, 11, 24, 17, 0, 5),
        "lead",
        "Change",
        "bob",
        "permanent",
        "7 d 2 h",
        "permanent",
        "not muted",
        "raid",
        "Error",
        70107,
        "not imported",
        123,
        "mod",
        "spam",
    ]
    assert cells[1].is_date
    assert [cell.data_type for cell in cells] == ["n", "d", *"sssssssss", "n", "s", "n", "s", "s"]


def test_a_lifted_mute_and_one_left_alone_read_as_such(as_lead):
    audit_row(action="change", c2c_requested=0, group_requested=None, c2c_observed=3600)
    _, rows = workbook(as_lead)
    assert values(rows)[1][5:9] == ["lifted", None, "1 h", None]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/Los_Angeles"])
def test_times_are_date_cells_in_the_active_zone_named_in_the_heading(client, lead, settings, zone):
    # 02:30 UTC on the 6th is 10:30 on the 6th in Shanghai and 18:30 on the 5th in Los Angeles.
    audit_row(at=datetime(2026, 12, 6, 2, 30, tzinfo=UTC))
    client.force_login(lead)
    # The moderator's zone: the server's default for one who chose none.
    settings.TIME_ZONE = zone
    with timezone.override(zone):
        response = client.get(reverse("audit:export") + "?format=xlsx")
    # Read after the zone is no longer active, as a server reads a streamed response.
    data = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    header, first = ([cell for cell in row] for row in sheet.iter_rows(max_row=2))
    assert header[1].value == f"Time ({zone})"
    assert first[1].is_date
    expected = {
        "Asia/Shanghai": datetime(2026, 12, 6, 10, 30),
        "America/Los_Angeles": datetime(2026, 12, 5, 18, 30),
    }
    assert first[1].value == expected[zone]


@pytest.mark.parametrize("reason", ["=1+1", "+SUM(A1:A9)", "-2", "@SUM(A1)", '=HYPERLINK("x")'])
def test_text_starting_like_a_formula_stays_a_string_cell_as_typed(as_lead, reason):
    audit_row(action="change", reason=reason, account="=cmd", operator="+op")
    _, rows = workbook(as_lead)
    cells = rows[1]
    for index in (2, 4, 9):
        assert cells[index].data_type == "s"
    assert (cells[2].value, cells[4].value, cells[9].value) == ("+op", "=cmd", reason)


def test_filters_apply_to_the_workbook(as_lead):
    audit_row(account="alice", action="query")
    kept = audit_row(account="alice", action="change", reason="spam")
    audit_row(account="bob", action="change", reason="spam")
    _, rows = workbook(as_lead, "&account=alice&action=change&action=export&q=SPAM")
    assert [row[0].value for row in rows[1:]] == [kept.pk]


def test_invalid_filters_export_nothing(as_lead):
    response = as_lead.get(reverse("audit:export") + "?format=xlsx&since=yesterday-ish")
    assert response.status_code == 400
    assert not AuditEntry.objects.filter(action="export").exists()


def test_the_workbook_export_is_audited_with_its_filters_and_format(as_auditor):
    audit_row(account="alice")
    response = as_auditor.get(reverse("audit:export") + "?format=xlsx&account=alice")
    entry = AuditEntry.objects.get(action="export")
    assert entry.outcome == "pending"
    b"".join(response.streaming_content)
    entry.refresh_from_db()
    assert entry.outcome == "ok"
    assert entry.details == {"filters": {"account": ["alice"]}, "format": "xlsx", "rows": 1}


def test_the_export_row_is_left_for_the_next_export(as_lead):
    audit_row()
    workbook(as_lead)
    first_export = AuditEntry.objects.get(action="export")
    _, rows = workbook(as_lead)
    assert rows[1][0].value == first_export.pk
    assert rows[1][3].value == "Export"


def test_rows_are_read_in_keyset_batches_without_offset():
    ids = [audit_row(account=f"u{n}").pk for n in range(7)]
    with CaptureQueriesContext(connection) as queries:
        records = list(audit_export_records(filters=filters_from(""), batch_size=3))
    assert [record[0] for record in records] == ids[::-1]
    assert len(queries) == 3
    assert not any("OFFSET" in query["sql"].upper() for query in queries)
    assert f'"id" < {ids[-3]}' in queries[1]["sql"]


def test_headings_and_words_follow_the_language(as_lead, chinese_catalog):  # noqa: F811
    chinese_catalog({"Account": "账号", "Reason": "原因", "permanent": "永久"})
    audit_row(action="change", c2c_observed=PERMANENT)
    with translation.override("zh-hans"):
        _, rows = workbook(as_lead, HTTP_ACCEPT_LANGUAGE="zh-hans")
    header = values(rows)[0]
    assert (header[4], header[9]) == ("账号", "原因")
    assert values(rows)[1][7] == "永久"
