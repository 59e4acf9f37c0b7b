"""The audit log as a CSV download: exact columns, safe cells, streamed, and itself audited."""

import csv
import io
import random
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from muteadmin.audit import exports
from muteadmin.audit.exports import AUDIT_EXPORT_HEADER, audit_export_batches
from muteadmin.audit.models import AuditEntry
from muteadmin.audit.views import AuditExportView
from muteadmin.core.spreadsheets import csv_lines
from muteadmin.tencent.nospeaking import PERMANENT
from tests.conftest import FakeClock, audit_row, user_with
from tests.test_audit_filters import filters_from

pytestmark = pytest.mark.django_db

HEADER = (
    "id,time_utc,operator,action,account,c2c_requested,group_requested,c2c_observed,"
    "group_observed,reason,outcome,error_code,error_info,latency_ms,on_behalf_of,rule"
)


def download(client, query: str = "") -> tuple:
    """The response and its parsed rows (header first), consuming the whole stream."""
    response = client.get(reverse("audit:export") + query)
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8")
    return response, body, list(csv.reader(io.StringIO(body, newline="")))


def export_response(user: User, query: str = ""):
    """The export view's response as the server gets it, before anything is read."""
    request = RequestFactory().get(reverse("audit:export") + query)
    request.user = user
    return AuditExportView.as_view()(request)


def hang_up(response) -> None:
    """Close the response as the server does when the client goes away."""
    # As Django's test client does: the test's own connection must outlive request_finished.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def test_header_is_exact_and_the_download_is_utf8_csv(as_lead):
    audit_row()
    response, body, _ = download(as_lead)
    assert body.splitlines()[0] == HEADER
    assert ",".join(AUDIT_EXPORT_HEADER) == HEADER
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition == (
        f'attachment; filename="muteadmin-audit-{timezone.localdate():%Y-%m-%d}.csv"'
    )


def test_rows_come_newest_first_with_every_column(as_lead, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    older = audit_row(at=datetime(2026, 11, 24, 16, 30, 5, 250000, tzinfo=UTC))
    newer = audit_row(
        at=datetime(2026, 11, 24, 17, 0, tzinfo=UTC),
        action="change",
        account="bob",
        operator="lead",
        c2c_requested=PERMANENT,
        group_requested=0,
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
    _, _, rows = download(as_lead)
    data = rows[1:-1] if rows[1][3] == "export" else rows[1:]
    assert [row[0] for row in rows[1:]] == [str(newer.pk), str(older.pk)]
    assert data[0] == [
        str(newer.pk),
        "2026-11-24T17:00:00Z",
        "lead",
        "change",
        "bob",
        str(PERMANENT),
        "0",
        str(PERMANENT),
        "0",
        "raid",
        "error",
        "70107",
        "not imported",
        "123",
        "mod",
        "spam",
    ]
    # Times are in UTC whatever the moderator's zone.
    assert data[1][1] == "2026-11-24T16:30:05.250000Z"
    # A row carried out for no one else, under no rule, leaves the last two columns blank.
    assert data[1][-2:] == ["", ""]


def test_nulls_are_blank_cells(as_lead):
    row = audit_row(c2c_observed=None, group_observed=None, latency_ms=None, error_code=None)
    _, _, rows = download(as_lead)
    assert rows[1][0] == str(row.pk)
    assert rows[1][5:9] == ["", "", "", ""]
    assert rows[1][11] == ""
    assert rows[1][13] == ""
    assert rows[1][14] == ""


def test_commas_quotes_and_newlines_survive_quoting(as_lead):
    reason = 'spam, "free coins"\nsecond line\r\nthird; 中文'
    audit_row(action="change", reason=reason, account="a,b")
    _, body, rows = download(as_lead)
    assert rows[1][9] == reason
    assert rows[1][4] == "a,b"
    assert '"spam, ""free coins""' in body


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_looking_cells_are_neutralised(as_lead, start):
    audit_row(
        action="change",
        reason=f'{start}HYPERLINK("http://x")',
        account=f"{start}cmd",
        operator=f"{start}op",
        error_info=f"{start}1+1",
    )
    _, _, rows = download(as_lead)
    row = rows[1]
    for column in ("reason", "account", "operator", "error_info"):
        cell = row[AUDIT_EXPORT_HEADER.index(column)]
        assert cell.startswith(f"'{start}"), (column, cell)


def test_filters_apply_to_the_export(as_lead):
    audit_row(account="alice", action="query")
    kept = audit_row(account="alice", action="change", reason="spam")
    audit_row(account="bob", action="change", reason="spam")
    _, _, rows = download(as_lead, "?account=alice&action=change&action=export&q=SPAM")
    assert [row[0] for row in rows[1:]] == [str(kept.pk)]


def test_export_is_audited_with_its_filters(as_auditor, auditor):
    audit_row(account="alice")
    query = "?account=alice&action=query&since=2026-01-01"
    response = as_auditor.get(reverse("audit:export") + query)
    # Written before the first byte, pending until the stream ends.
    entry = AuditEntry.objects.get(action="export")
    assert entry.outcome == "pending"
    assert (entry.operator, entry.operator_username, entry.account, entry.reason) == (
        auditor,
        "auditor",
        "",
        "",
    )
    filters = {"account": ["alice"], "action": ["query"], "since": ["2026-01-01"]}
    assert entry.details == {"filters": filters}
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 2
    entry.refresh_from_db()
    assert entry.outcome == "ok"
    assert entry.latency_ms is not None
    assert entry.error_info == ""
    assert entry.completed_at is not None
    assert entry.details == {"filters": filters, "rows": 1}


def test_the_export_row_appears_in_the_next_export_not_its_own(as_lead):
    audit_row()
    _, _, first = download(as_lead)
    first_export = AuditEntry.objects.get(action="export")
    assert str(first_export.pk) not in [row[0] for row in first[1:]]
    _, _, second = download(as_lead)
    assert second[1][0] == str(first_export.pk)
    assert second[1][3] == "export"
    assert second[1][10] == "ok"
    assert AuditEntry.objects.filter(action="export").count() == 2


def test_an_interrupted_download_is_recorded_as_such(lead, settings):
    settings.AUDIT_EXPORT_BATCH_SIZE = 5
    for _ in range(12):
        audit_row()
    response = export_response(lead)
    chunks = iter(response)
    assert next(chunks).decode().strip() == HEADER
    assert next(chunks).count(b"\n") == 5
    hang_up(response)
    entry = AuditEntry.objects.get(action="export")
    assert entry.outcome == "error"
    assert entry.error_info == "Export interrupted after 5 rows."
    assert entry.details == {"filters": {}, "rows": 5}


def test_a_download_closed_before_its_first_byte_is_recorded(lead):
    hang_up(export_response(lead))
    entry = AuditEntry.objects.get(action="export")
    assert (entry.outcome, entry.error_info) == ("error", "Export interrupted after 0 rows.")


def test_export_permission_is_separate_from_viewing(client):
    audit_row()
    client.force_login(user_with("viewer", "view_audit_log"))
    assert client.get(reverse("audit:list")).status_code == 200
    assert client.get(reverse("audit:export")).status_code == 403
    client.force_login(user_with("exporter", "export_audit_log"))
    assert client.get(reverse("audit:list")).status_code == 403
    _, _, rows = download(client)
    assert len(rows) == 2
    assert AuditEntry.objects.filter(action="export").count() == 1


def test_moderators_cannot_export(as_moderator):
    audit_row()
    assert as_moderator.get(reverse("audit:export")).status_code == 403
    assert not AuditEntry.objects.filter(action="export").exists()


def test_invalid_filters_export_nothing(as_lead):
    response = as_lead.get(reverse("audit:export") + "?since=soon&action=delete")
    assert response.status_code == 400
    text = response.content.decode()
    assert "Nothing was exported" in text
    assert "Enter a date as 2026-11-25" in text
    assert not AuditEntry.objects.filter(action="export").exists()


def test_rows_are_read_in_keyset_batches_without_offset():
    ids = [audit_row(account=f"u{n}").pk for n in range(7)]
    with CaptureQueriesContext(connection) as queries:
        batches = list(audit_export_batches(filters=filters_from(""), batch_size=3))
    assert [batch.rows for batch in batches] == [3, 3, 1]
    rows = [row for batch in batches for row in csv.reader(io.StringIO(batch.text.decode()))]
    assert [int(row[0]) for row in rows] == ids[::-1]
    assert [row[4] for row in rows] == [f"u{n}" for n in reversed(range(7))]
    assert [batch.last_id for batch in batches] == [ids[-3], ids[-6], ids[0]]
    assert len(queries) == 3
    assert not any("OFFSET" in query["sql"].upper() for query in queries)
    # Each batch starts below the last id of the one before.
    assert f'"id" < {ids[-3]}' in queries[1]["sql"]
    assert f'"id" < {ids[-6]}' in queries[2]["sql"]


def test_the_first_batch_is_small_so_the_first_rows_arrive_at_once(as_lead, settings):
    settings.AUDIT_EXPORT_BATCH_SIZE = 40
    settings.AUDIT_EXPORT_FIRST_BATCH_SIZE = 4
    for n in range(90):
        audit_row(account=f"u{n}")
    response = as_lead.get(reverse("audit:export"))
    chunks = list(response.streaming_content)
    # The header alone, then 4 rows, then whole batches.
    assert [chunk.count(b"\n") for chunk in chunks] == [1, 4, 40, 40, 6]
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    assert [row[4] for row in rows[1:]] == [f"u{n}" for n in reversed(range(90))]


def test_a_large_export_streams_in_many_chunks(as_lead, settings):
    settings.AUDIT_EXPORT_BATCH_SIZE = 40
    for n in range(130):
        audit_row(account=f"u{n}")
    response = as_lead.get(reverse("audit:export"))
    chunks = list(response.streaming_content)
    assert len(chunks) == 1 + 4  # the header alone, then 40 + 40 + 40 + 10 rows
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    assert len(rows) == 131
    assert [int(row[0]) for row in rows[1:]] == sorted(
        (int(row[0]) for row in rows[1:]), reverse=True
    )


# Cells a spreadsheet or a CSV reader could trip on, mixed into every text column.
AWKWARD_TEXTS = (
    "",
    "alice",
    "=1+2",
    "+cmd",
    "-5",
    "@SUM(A1)",
    "\tlead",
    "\rcr",
    "=",
    "-",
    "'quoted already",
    "a,b",
    'say "hi"',
    '"',
    ",",
    "line\nbreak",
    "crlf\r\nend",
    "\n",
    "\r\n",
    "x\ty",
    " spaced ",
    "\\.",
    "中文 ünïcödé 😀",
    "long " * 40,
)


def old_export_body(*, below: int) -> bytes:
    """What the export wrote before it read batches as text: csv_cell on every ORM value."""
    rows = (
        AuditEntry.objects.filter(id__lt=below)
        .order_by("-id")
        .values_list(*exports.AUDIT_EXPORT_COLUMNS)
    )
    return "".join(csv_lines(AUDIT_EXPORT_HEADER, rows)).encode()


def varied_rows(count: int, *, seed: int = 7) -> list[AuditEntry]:
    """`count` completed rows with awkward text, nulls and times with and without microseconds."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    times = [
        start + timedelta(seconds=n * 37, microseconds=rng.choice([0, 0, 1, 250000, 999999]))
        for n in range(count)
    ]
    numbers = (None, 0, 1, 59, 3600, PERMANENT, 2**40)
    entries = [
        AuditEntry(
            operator_username=rng.choice(AWKWARD_TEXTS)[:150],
            action=rng.choice(["query", "change", "export"]),
            account=rng.choice(AWKWARD_TEXTS)[:64],
            c2c_requested=rng.choice(numbers),
            group_requested=rng.choice(numbers),
            c2c_observed=rng.choice(numbers),
            group_observed=rng.choice(numbers),
            reason=rng.choice(AWKWARD_TEXTS),
            outcome=rng.choice(["ok", "error", "pending"]),
            error_code=rng.choice([None, None, 0, 70107, 130014]),
            error_info=rng.choice(AWKWARD_TEXTS),
            latency_ms=rng.choice([None, 0, 87, 15000]),
            completed_at=time,
        )
        for time in times
    ]
    # created_at is stamped from timezone.now() as each row goes in.
    with FakeClock().freeze_django(times):
        return AuditEntry.objects.bulk_create(entries)


def test_the_export_writes_byte_for_byte_what_csv_cell_writes(as_lead, settings):
    settings.AUDIT_EXPORT_BATCH_SIZE = 700
    varied_rows(3000)
    with CaptureQueriesContext(connection) as queries:
        _, body, rows = download(as_lead)
    export = AuditEntry.objects.get(action="export", operator_username="lead")
    assert body.encode() == old_export_body(below=export.pk)
    assert len(rows) == 3001
    # 700 x 4 + 200: five reads, none repeated (no batch fell back to the slower path).
    reads = [query["sql"] for query in queries if "LIMIT 700" in query["sql"]]
    assert len(reads) == 5


def test_negative_numbers_are_neutralised_like_any_cell(as_lead):
    audit_row(action="change", c2c_requested=-5, error_code=-1, reason="x")
    audit_row(action="change", reason="kept, -as is")
    audit_row(action="query", c2c_observed=-3600)
    _, body, rows = download(as_lead)
    export = AuditEntry.objects.get(action="export")
    assert body.encode() == old_export_body(below=export.pk)
    assert (rows[3][5], rows[3][11]) == ("'-5", "'-1")
    assert rows[2][9] == "kept, -as is"
    assert rows[1][7] == "'-3600"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite keeps times as text")
def test_times_stored_in_another_shape_are_still_written_as_csv_cell_writes_them(as_lead):
    audit_row()
    odd = [audit_row(outcome="pending"), audit_row(outcome="pending")]
    # Django writes "YYYY-MM-DD HH:MM:SS[.ffffff]"; other writers may not.
    shapes = ["2026-03-01 10:00:00.000000", "2026-03-01 10:00:00.5"]
    with connection.cursor() as cursor:
        for entry, shape in zip(odd, shapes, strict=True):
            cursor.execute(
                "UPDATE audit_auditentry SET created_at = %s WHERE id = %s", [shape, entry.pk]
            )
    with CaptureQueriesContext(connection) as queries:
        _, body, rows = download(as_lead)
    export = AuditEntry.objects.get(action="export")
    assert body.encode() == old_export_body(below=export.pk)
    assert [row[1] for row in rows[1:3]] == ["2026-03-01T10:00:00.500000Z", "2026-03-01T10:00:00Z"]
    # The batch was read a second time, as stored values.
    reads = [
        query for query in queries if f"LIMIT {exports.FIRST_EXPORT_BATCH_SIZE}" in query["sql"]
    ]
    assert len(reads) == 2


def test_awkward_cells_are_written_to_the_exact_byte():
    first = audit_row(
        at=datetime(2026, 3, 1, 10, 0, 0, 500000, tzinfo=UTC),
        action="change",
        operator="=op",
        account="a,b",
        c2c_requested=-5,
        reason='say "hi", then\r\nbye',
        error_code=70107,
        error_info="-1+1",
        latency_ms=None,
    )
    second = audit_row(
        at=datetime(2026, 3, 1, 10, 0, 1, tzinfo=UTC),
        operator="lead",
        account="中文 ünïcödé 😀",
        outcome="error",
        error_info="\tx\n",
    )
    third = audit_row(
        at=datetime(2026, 3, 1, 10, 0, 2, 1, tzinfo=UTC),
        action="change",
        operator="@me",
        account='"',
        c2c_requested=3600,
        group_requested=0,
        reason="\rcr",
        error_code=-1,
        error_info="+x",
        on_behalf_of="+boss",
        rule="-spam",
    )
    batches = list(audit_export_batches(filters=filters_from(""), batch_size=2))
    assert [batch.rows for batch in batches] == [2, 1]
    assert (
        b"".join(batch.text for batch in batches)
        == (
            f'{third.pk},2026-03-01T10:00:02.000001Z,\'@me,change,"""",3600,0,,,'
            f"\"'\rcr\",ok,'-1,'+x,20,'+boss,'-spam\r\n"
            f"{second.pk},2026-03-01T10:00:01Z,lead,query,中文 ünïcödé 😀,,,0,0,,error,,"
            f'"\'\tx\n",20,,\r\n'
            f"{first.pk},2026-03-01T10:00:00.500000Z,'=op,change,\"a,b\",'-5,,,,"
            f'"say ""hi"", then\r\nbye",ok,70107,\'-1+1,,,\r\n'
        ).encode()
    )


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL text cannot hold a NUL")
def test_text_holding_a_nul_character_is_written_whole(as_lead):
    audit_row(reason="before")
    audit_row(action="change", reason="a\x00b, c")
    with CaptureQueriesContext(connection) as queries:
        _, body, rows = download(as_lead)
    export = AuditEntry.objects.get(action="export")
    assert body.encode() == old_export_body(below=export.pk)
    assert rows[1][9] == "a\x00b, c"
    # The batch was read a second time, as stored values.
    reads = [
        query for query in queries if f"LIMIT {exports.FIRST_EXPORT_BATCH_SIZE}" in query["sql"]
    ]
    assert len(reads) == 2
