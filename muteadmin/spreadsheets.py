"""CSV for spreadsheets: formula-looking cells neutralised; written by row, by batch or by COPY."""

import csv
import io
import selectors
from collections.abc import Iterable, Iterator, Sequence
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Any

from django.db import NotSupportedError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Func, TextField
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from psycopg import errors, pq

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP's list).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# How SQLite holds a DateTimeField: UTC text, "YYYY-MM-DD HH:MM:SS", then ".ffffff" unless the
# microseconds are 0 (str() of the datetime, which drops a zero fraction as isoformat() does).
_SQLITE_TIME_LENGTHS = (19, 26)
_ZERO_FRACTION = ".000000"


class _Line:
    """A file-like object whose write() hands back the line csv.writer formatted."""

    def write(self, line: str) -> str:
        return line


def csv_cell(value: Any) -> str:
    """One cell: blank for None, ISO 8601 UTC for times, and a leading ' before formula starts."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(timezone.UTC).isoformat().replace("+00:00", "Z")
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The header line, then one line per row, ready for a StreamingHttpResponse."""
    writer = csv.writer(_Line())
    yield writer.writerow(list(header))
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """Rows of finished cells (text, integers, None for blank) as CSV text, lines as csv_lines."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def csv_time_cell(value: str | datetime | None) -> str:
    """A stored time as csv_cell writes it; SQLite's UTC text is rearranged rather than parsed."""
    if isinstance(value, str):
        if len(value) in _SQLITE_TIME_LENGTHS and not value.endswith(_ZERO_FRACTION):
            return f"{value[:10]}T{value[11:]}Z"
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError(f"Not a stored time: {value!r}")
        value = parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)
    return csv_cell(value)


def csv_text_from_records(
    records: Iterable[Sequence[Any]],
    *,
    time_columns: Sequence[int] = (),
    text_columns: Sequence[int] = (),
    number_columns: Sequence[int] = (),
) -> str:
    """Records as a database cursor returns them, as CSV text whose cells csv_cell would write.

    Columns not named are written as they come: identifiers, fixed words, counts that are never
    negative. A batch costs a fraction of csv_lines because csv.writer gets whole rows at once and
    only the cells that can need it are looked at.
    """
    rows = []
    for record in records:
        row = list(record)
        for index in time_columns:
            row[index] = csv_time_cell(row[index])
        for index in text_columns:
            text = row[index]
            if text and text.startswith(FORMULA_PREFIXES):
                row[index] = "'" + text
        for index in number_columns:
            number = row[index]
            # csv_cell sees "-5" as a cell starting with "-".
            if number is not None and number < 0:
                row[index] = f"'{number}"
        rows.append(row)
    return csv_text(rows)


# PostgreSQL can write the CSV itself (COPY ... TO STDOUT): these make its cells and lines the
# ones csv_cell and csv.writer would have written.


class CopyCsvText(Func):
    """A text column as csv_cell writes it, for COPY: formula starts neutralised, '' as NULL.

    COPY writes NULL as a blank cell but an empty string as "", where csv.writer writes nothing.
    """

    arity = 1
    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError("CopyCsvText is for PostgreSQL's COPY.")

    def as_postgresql(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.get_source_expressions()[0])
        # ascii() is the first character's code (0 for ''): one CASE on it costs the database far
        # less than comparing a substring against each prefix.
        whens = " ".join(f"WHEN {ord(prefix)} THEN '''' || {column}" for prefix in FORMULA_PREFIXES)
        sql = f"CASE ascii({column}) WHEN 0 THEN NULL {whens} ELSE {column} END"
        return sql, tuple(params) * (len(FORMULA_PREFIXES) + 2)


class CopyCsvTime(Func):
    """A timestamp as csv_cell writes it, for COPY: ISO 8601 UTC with Z, no fraction when zero."""

    arity = 1
    output_field = TextField()
    template = (
        "replace(to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
        "'.000000Z', 'Z')"
    )

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError("CopyCsvTime is for PostgreSQL's COPY.")

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, **extra_context)


def copy_csv(
    *, connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any]
) -> tuple[bytes, int]:
    """A PostgreSQL query's rows as CSV written by the database (COPY; UTF-8, LF), and how many."""
    statement = connection.ops.compose_sql(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params)
    with connection.cursor() as cursor:
        connection.validate_no_broken_transaction()
        # Listed with the other queries (tests, the debug toolbar) though it bypasses the cursor.
        logged = cursor.debug_sql(statement) if connection.queries_logged else nullcontext()
        with logged, connection.wrap_database_errors:
            pgconn = connection.connection.pgconn
            return _copy_out(pgconn, statement.encode(connection.connection.info.encoding))


def _copy_out(pgconn: pq.abc.PGconn, statement: bytes) -> tuple[bytes, int]:
    """Run a COPY ... TO STDOUT through libpq's own calls (psycopg's pgconn) and read all it writes.

    psycopg's Copy object hands over one row per turn of its wait loop, a few microseconds of Python
    each: at a million rows that alone doubles what the database takes to write them. Here libpq's
    buffer is drained in a tight loop and the thread waits on the socket (GIL released) when empty.
    """
    with selectors.DefaultSelector() as selector:
        selector.register(pgconn.socket, selectors.EVENT_WRITE)
        pgconn.send_query(statement)
        while pgconn.flush():
            selector.select()
        selector.modify(pgconn.socket, selectors.EVENT_READ)
        result = _copy_result(pgconn, selector)
        chunks = []
        if result is not None and result.status == pq.ExecStatus.COPY_OUT:
            while True:
                size, data = pgconn.get_copy_data(1)
                if size > 0:
                    chunks.append(data)
                elif size == 0:
                    selector.select()
                    pgconn.consume_input()
                else:
                    break
            # The COPY's own result follows its data: the row count, or an error such as a cancel.
            result = _copy_result(pgconn, selector)
        # Read to the end, so the connection is ready for the next query whatever happened.
        while _copy_result(pgconn, selector) is not None:
            pass
    if result is None or result.status != pq.ExecStatus.COMMAND_OK:
        raise _copy_error(result)
    return b"".join(chunks), result.command_tuples or 0


def _copy_result(pgconn: pq.abc.PGconn, selector: selectors.BaseSelector) -> pq.abc.PGresult | None:
    while pgconn.is_busy():
        selector.select()
        pgconn.consume_input()
    return pgconn.get_result()


def _copy_error(result: pq.abc.PGresult | None) -> Exception:
    if result is None:
        return errors.DatabaseError("The COPY ended without a result.")
    sqlstate = result.error_field(pq.DiagnosticField.SQLSTATE)
    kind = errors.lookup(sqlstate.decode()) if sqlstate else errors.DatabaseError
    return kind(result.error_message.decode(errors="replace").strip())


def csv_crlf(text: bytes) -> bytes:
    """CSV whose records end in LF (as COPY writes them) with CRLF instead, as csv.writer ends them.

    Quotes alternate outside and inside quoted cells (a doubled quote too), so after splitting on
    them the line breaks in the odd pieces are a cell's own text and stay as they are.
    """
    pieces = text.split(b'"')
    for index in range(0, len(pieces), 2):
        if b"\n" in pieces[index]:
            pieces[index] = pieces[index].replace(b"\n", b"\r\n")
    return b'"'.join(pieces)


def csv_last_record(text: bytes) -> bytes:
    """The last record of CSV text ending in a line break (a quoted cell may hold line breaks)."""
    start = len(text) - 1
    while (start := text.rfind(b"\n", 0, start)) != -1:
        # Outside a quoted cell an even number of quotes precedes the line break.
        if text.count(b'"', 0, start) % 2 == 0:
            break
    return text[start + 1 :]
