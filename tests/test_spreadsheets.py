"""CSV helpers: the batch and COPY paths write exactly what csv_cell and csv_lines write."""

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import NotSupportedError, ProgrammingError, connection, transaction

from muteadmin.audit.models import AuditEntry
from muteadmin.core.spreadsheets import (
    CopiedCsv,
    CsvLine,
    CsvNumber,
    CsvText,
    CsvTime,
    copy_csv,
    csv_cell,
    csv_lines,
    csv_text,
    csv_text_from_records,
    csv_time_cell,
)
from tests.conftest import audit_row

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY is PostgreSQL's"
)
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="CsvLine is SQLite's")

TEXTS = (
    "",
    "plain",
    "=1+2",
    "+1",
    "-1",
    "@me",
    "\tx",
    "\rx",
    "a,b",
    'say "hi"',
    '"',
    "two\nlines",
    "crlf\r\nend",
    "\n",
    "中文",
)


def random_rows(count: int, *, seed: int) -> list[list]:
    """An integer, then text cells: COPY and csv.writer quote them alike."""
    rng = random.Random(seed)
    # copy_csv gives every cell outside quotes that starts with "-" a ', as it must numbers.
    texts = [text for text in TEXTS if not text.startswith("-")]
    return [[rng.choice([n, -n]), *rng.choices(texts, k=3)] for n in range(count)]


def copied(rows: list[list]) -> CopiedCsv:
    """`rows` written by COPY from a VALUES list, '' as NULL (COPY would write it as "")."""
    row = "(" + ", ".join(["%s::bigint"] + ["%s::text"] * (len(rows[0]) - 1)) + ")"
    cells = ", ".join(["column1"] + [f"nullif(column{n}, '')" for n in range(2, len(rows[0]) + 1)])
    values = ", ".join([row] * len(rows))
    sql = f"SELECT {cells} FROM (VALUES {values}) AS v ORDER BY column1"  # noqa: S608
    return copy_csv(connection=connection, sql=sql, params=[cell for row in rows for cell in row])


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 24, 16, 30, 5, tzinfo=UTC),
        datetime(2026, 11, 24, 16, 30, 5, 1, tzinfo=UTC),
        datetime(2026, 11, 24, 16, 30, 5, 250000, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_a_time_as_sqlite_stores_it_reads_as_csv_cell_writes_it(moment):
    # SQLite keeps str() of the UTC time: no fraction when the microseconds are 0.
    as_sqlite = str(moment.replace(tzinfo=None))
    if connection.vendor == "sqlite":
        assert connection.ops.adapt_datetimefield_value(moment) == as_sqlite
    assert csv_time_cell(as_sqlite) == csv_cell(moment)
    assert csv_time_cell(moment) == csv_cell(moment)


@pytest.mark.parametrize(
    ("stored", "moment"),
    [
        ("2026-11-24 16:30:05.000000", datetime(2026, 11, 24, 16, 30, 5, tzinfo=UTC)),
        ("2026-11-24 16:30:05.25", datetime(2026, 11, 24, 16, 30, 5, 250000, tzinfo=UTC)),
        (
            "2026-11-25 00:30:05+08:00",
            datetime(2026, 11, 25, 0, 30, 5, tzinfo=timezone(timedelta(hours=8))),
        ),
    ],
)
def test_times_stored_in_other_shapes_are_parsed(stored, moment):
    assert csv_time_cell(stored) == csv_cell(moment)


def test_a_blank_time_is_a_blank_cell_and_garbage_is_refused():
    assert csv_time_cell(None) == ""
    # A naive time read from the database is UTC, whatever the server's zone.
    assert csv_time_cell(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05Z"
    with pytest.raises(ValueError, match="Not a stored time"):
        csv_time_cell("yesterday")


def test_a_batch_of_records_is_written_as_csv_lines_writes_it():
    rng = random.Random(3)
    numbers = (None, 0, 7, -1, -3600, 2**40)
    moments = (
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    )
    rows = [
        [
            n,
            rng.choice(moments),
            rng.choice(TEXTS),
            rng.choice(numbers),
            rng.choice(["ok", "error"]),
        ]
        for n in range(500)
    ]
    records = [[n, str(moment.replace(tzinfo=None)), *rest] for n, moment, *rest in rows]
    batch = csv_text_from_records(records, time_columns=[1], text_columns=[2], number_columns=[3])
    header = ["id", "time", "text", "number", "word"]
    assert csv_text([header]) + batch == "".join(csv_lines(header, rows))


@postgresql_only
@pytest.mark.django_db
def test_copy_writes_csv_and_counts_rows():
    result = copy_csv(
        connection=connection,
        sql="SELECT n, %s || n FROM generate_series(1, 3) AS n",
        params=['a,"b"'],
    )
    assert result.text == b'1,"a,""b""1"\r\n2,"a,""b""2"\r\n3,"a,""b""3"\r\n'
    assert (result.rows, result.last) == (3, b'3,"a,""b""3"')


@postgresql_only
@pytest.mark.django_db
def test_copy_writes_no_rows_as_nothing():
    result = copy_csv(connection=connection, sql="SELECT 1 WHERE false", params=[])
    assert (result.text, result.rows, result.last) == (b"", 0, b"")


@postgresql_only
@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(5))
def test_copy_ends_lines_and_neutralises_numbers_as_csv_writer_and_csv_cell_do(seed):
    rows = random_rows(300, seed=seed)
    rows.sort(key=lambda row: row[0])
    expected = [[csv_cell(number), *texts] for number, *texts in rows]
    result = copied(rows)
    assert result.text == csv_text(expected).encode()
    assert result.rows == len(rows)
    assert result.last + b"\r\n" == csv_text(expected[-1:]).encode()


@postgresql_only
@pytest.mark.django_db
def test_copy_leaves_a_minus_inside_quotes_as_it_is():
    rows = [[-1, "x,-2", "-3\n-4", "5,\n-6"], [7, 'q"-8', "-9", "a-b"]]
    assert copied(rows).text == (b'\'-1,"x,-2","-3\n-4","5,\n-6"\r\n7,"q""-8",\'-9,a-b\r\n')


@postgresql_only
@pytest.mark.django_db
def test_a_failed_copy_raises_and_leaves_the_connection_usable():
    with pytest.raises(ProgrammingError, match="no_such_table"), transaction.atomic():
        copy_csv(connection=connection, sql="SELECT * FROM no_such_table", params=[])
    # Every message of the failed COPY was read: the connection takes the next query.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def sqlite_line(entry: AuditEntry, *cells) -> bytes | None:
    """The line CsvLine makes of `cells` for one row."""
    return AuditEntry.objects.filter(pk=entry.pk).values_list(CsvLine(*cells), flat=True).get()


@sqlite_only
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("plain", b"plain"),
        ("", b""),
        ("a,b", b'"a,b"'),
        ('say "hi"', b'"say ""hi"""'),
        ('"', b'""""'),
        ("two\nlines", b'"two\nlines"'),
        ("crlf\r\nend", b'"crlf\r\nend"'),
        ("\n", b'"\n"'),
        ("=1+2", b"'=1+2"),
        ("+1", b"'+1"),
        ("-1", b"'-1"),
        ("@me", b"'@me"),
        ("\tx", b"'\tx"),
        ("\rx", b'"\'\rx"'),
        ("=a,b", b'"\'=a,b"'),
        ('-"', b'"\'-"""'),
        ("x\ty, 'z'", b"\"x\ty, 'z'\""),
        ("中文 ünïcödé 😀", "中文 ünïcödé 😀".encode()),
    ],
)
def test_sqlite_writes_a_text_cell_as_csv_writer_writes_it(text, cell):
    # A second cell: csv.writer writes a row of one empty cell as "".
    assert csv_text([[csv_cell(text), "x"]]).encode() == cell + b",x\r\n"
    entry = audit_row(reason=text, action=text, account="x")
    # CsvText neutralises; a column of words (action) is only quoted.
    word = csv_text([[text, "x"]]).encode().removesuffix(b",x\r\n")
    assert sqlite_line(entry, "id", CsvText("reason"), "action") == (
        f"{entry.pk},".encode() + cell + b"," + word
    )


@sqlite_only
@pytest.mark.django_db
def test_sqlite_writes_numbers_times_and_nulls_as_csv_cell_writes_them():
    with_fraction = audit_row(
        at=datetime(2026, 3, 1, 10, 0, 0, 500000, tzinfo=UTC),
        c2c_requested=-5,
        group_requested=2**40,
        error_code=None,
        latency_ms=None,
    )
    whole_second = audit_row(at=datetime(2026, 3, 1, 10, 0, 1, tzinfo=UTC), c2c_requested=0)
    cells = [
        CsvTime("created_at"),
        CsvNumber("c2c_requested"),
        CsvNumber("group_requested"),
        CsvNumber("error_code"),
        "latency_ms",
    ]
    assert sqlite_line(with_fraction, *cells) == (
        f"2026-03-01T10:00:00.500000Z,'-5,{2**40},,".encode()
    )
    assert sqlite_line(whole_second, *cells) == b"2026-03-01T10:00:01Z,0,,,20"


@sqlite_only
@pytest.mark.django_db
def test_sqlite_lines_match_csv_text_for_every_awkward_cell():
    rng = random.Random(13)
    entries = [
        audit_row(
            operator=rng.choice(TEXTS) or "op",
            account=rng.choice(TEXTS),
            reason=rng.choice(TEXTS),
            error_info=rng.choice(TEXTS),
            c2c_requested=rng.choice([None, 0, -1, 3600]),
        )
        for _ in range(200)
    ]
    cells = {
        "id": "id",
        "operator_username": CsvText("operator_username"),
        "action": "action",
        "account": CsvText("account"),
        "c2c_requested": CsvNumber("c2c_requested"),
        "reason": CsvText("reason"),
        "error_info": CsvText("error_info"),
    }
    rows = AuditEntry.objects.filter(pk__in=[entry.pk for entry in entries]).order_by("id")
    lines = rows.values_list(CsvLine(*cells.values()), flat=True)
    values = rows.values_list(*cells)
    expected = csv_text([[csv_cell(value) for value in row] for row in values])
    assert b"".join(line + b"\r\n" for line in lines) == expected.encode()


@sqlite_only
@pytest.mark.django_db
@pytest.mark.parametrize(
    "shape", ["2026-03-01 10:00:00.000000", "2026-03-01 10:00:00.5", "2026-03-01 10:00:00+00:00"]
)
def test_a_time_sqlite_cannot_rearrange_makes_the_line_null(shape):
    # Pending: a completed row cannot be changed.
    entry = audit_row(outcome="pending")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET created_at = %s WHERE id = %s", [shape, entry.pk]
        )
    assert sqlite_line(entry, "id", CsvTime("created_at")) is None


@sqlite_only
@pytest.mark.django_db
def test_text_holding_a_nul_character_makes_the_line_null():
    # printf() would stop at the NUL and drop the rest of the cell.
    assert sqlite_line(audit_row(reason="a\x00b,c"), "id", CsvText("reason")) is None
    assert sqlite_line(audit_row(action="q\x00"), "id", "action") is None
    assert sqlite_line(audit_row(reason="ab"), "id", CsvText("reason")) is not None


@pytest.mark.skipif(connection.vendor == "sqlite", reason="needs another database")
@pytest.mark.django_db
def test_csv_line_is_sqlites_alone():
    with pytest.raises(NotSupportedError, match="SQLite"):
        list(AuditEntry.objects.values_list(CsvLine("id", CsvText("reason"))))
