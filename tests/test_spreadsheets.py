"""CSV helpers: the batch and COPY paths write exactly what csv_cell and csv_lines write."""

import csv
import io
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import ProgrammingError, connection, transaction

from muteadmin.spreadsheets import (
    copy_csv,
    csv_cell,
    csv_crlf,
    csv_last_record,
    csv_lines,
    csv_text,
    csv_text_from_cells,
    csv_text_from_records,
    csv_time_cell,
)

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY is PostgreSQL's"
)

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


def lf_csv(rows) -> bytes:
    """CSV as PostgreSQL's COPY writes it: the same quoting as csv.writer, records ended by LF."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


def random_rows(count: int, *, seed: int) -> list[list]:
    rng = random.Random(seed)
    return [[n, rng.choice(TEXTS), rng.choice(TEXTS), rng.choice(TEXTS)] for n in range(count)]


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


def test_lf_records_become_crlf_but_line_breaks_inside_cells_stay():
    rows = random_rows(400, seed=5)
    assert csv_crlf(lf_csv(rows)) == csv_text(rows).encode()
    assert csv_crlf(b"") == b""


@pytest.mark.parametrize("seed", range(20))
def test_the_last_record_is_found_even_when_cells_hold_line_breaks(seed):
    rows = random_rows(30, seed=seed)
    assert csv_last_record(lf_csv(rows)) == lf_csv(rows[-1:])
    assert csv_last_record(lf_csv(rows[:1])) == lf_csv(rows[:1])


def test_cells_are_joined_as_csv_writer_joins_them():
    rows = [tuple(row) for row in random_rows(500, seed=11)]
    assert csv_text_from_cells(rows, text_columns=[1, 2, 3]) == csv_text(rows)
    assert csv_text_from_cells([], text_columns=[1]) == ""


def test_a_missing_text_cell_is_left_to_the_caller():
    assert csv_text_from_cells([(1, "a"), (2, None)], text_columns=[1]) is None


@postgresql_only
@pytest.mark.django_db
def test_copy_writes_csv_and_counts_rows():
    text, count = copy_csv(
        connection=connection,
        sql="SELECT n, %s || n FROM generate_series(1, 3) AS n",
        params=['a,"b"'],
    )
    assert text == b'1,"a,""b""1"\n2,"a,""b""2"\n3,"a,""b""3"\n'
    assert count == 3


@postgresql_only
@pytest.mark.django_db
def test_a_failed_copy_raises_and_leaves_the_connection_usable():
    with pytest.raises(ProgrammingError, match="no_such_table"), transaction.atomic():
        copy_csv(connection=connection, sql="SELECT * FROM no_such_table", params=[])
    # Every message of the failed COPY was read: the connection takes the next query.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
