"""CSV for spreadsheets: formula-looking cells neutralised; written by row, by batch or by COPY."""

import csv
import io
import selectors
from collections.abc import Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import NotSupportedError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BinaryField, CharField, Func, TextField
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
        value = parsed
    if isinstance(value, datetime) and timezone.is_naive(value):
        # Stored times are UTC; csv_cell would take a naive one for the server's local time.
        value = value.replace(tzinfo=UTC)
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
    negative. Slower than cells made by the query (CsvText and friends), but takes any value.
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


# The database can make the cells itself, in C, for a fraction of the cost of doing it row by row
# in Python. Each expression gives the text csv_cell writes for the column's value (None as SQL
# NULL on PostgreSQL, which COPY writes as a blank cell, and as '' on SQLite).


class _CsvCell(Func):
    arity = 1
    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"{type(self).__name__} is written for SQLite and PostgreSQL.")

    def _column(self, compiler) -> str:
        sql, params = compiler.compile(self.get_source_expressions()[0])
        if params:
            raise ValueError(f"{type(self).__name__} takes a column.")
        return sql


class CsvText(_CsvCell):
    """A text column's cell, a ' before a formula start; '' is NULL on PostgreSQL.

    COPY writes an empty string as "", where csv.writer writes nothing: NULL makes it blank.
    """

    def as_sqlite(self, compiler, connection, **extra_context):
        column = self._column(compiler)
        # unicode('') is NULL, which no WHEN matches.
        whens = _formula_whens(column)
        return f"CASE unicode({column}) {whens} ELSE ifnull({column}, '') END", ()

    def as_postgresql(self, compiler, connection, **extra_context):
        column = self._column(compiler)
        whens = _formula_whens(column)
        return f"CASE ascii({column}) WHEN 0 THEN NULL {whens} ELSE {column} END", ()


def _formula_whens(column: str) -> str:
    # One CASE on the first character's code costs the database far less than comparing a
    # substring with each prefix.
    return " ".join(f"WHEN {ord(prefix)} THEN '''' || {column}" for prefix in FORMULA_PREFIXES)


class CsvNumber(_CsvCell):
    """An integer column's cell: a ' before a negative number, as before any "-"."""

    def as_sqlite(self, compiler, connection, **extra_context):
        column = self._column(compiler)
        return f"CASE WHEN {column} < 0 THEN '''' || {column} ELSE ifnull({column}, '') END", ()

    def as_postgresql(self, compiler, connection, **extra_context):
        column = self._column(compiler)
        return f"CASE WHEN {column} < 0 THEN '''' || {column} ELSE CAST({column} AS text) END", ()


class CsvTime(_CsvCell):
    """A DateTimeField's cell: ISO 8601 in UTC with Z, microseconds unless they are 0.

    On SQLite a time stored in another shape than Django's (see _SQLITE_TIME_LENGTHS) is NULL:
    the caller makes that row's cells another way.
    """

    def as_sqlite(self, compiler, connection, **extra_context):
        shape, cell = self.sqlite_parts(compiler)
        return f"CASE WHEN {shape} THEN {cell} END", ()

    def sqlite_parts(self, compiler) -> tuple[str, str]:
        """The condition that the stored time has Django's shape, and the cell when it does."""
        column = self._column(compiler)
        short, long = _SQLITE_TIME_LENGTHS
        # One length() per row, and the fraction looked at only where there is one.
        shape = (
            f"CASE length({column}) WHEN {long} THEN substr({column}, {short + 1}) <> "
            f"'{_ZERO_FRACTION}' WHEN {short} THEN 1 END"
        )
        return shape, f"replace({column}, ' ', 'T') || 'Z'"

    def as_postgresql(self, compiler, connection, **extra_context):
        column = self._column(compiler)
        utc = f"{column} AT TIME ZONE 'UTC'"
        return (
            f'replace(to_char({utc}, \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\'), '
            f"'{_ZERO_FRACTION}Z', 'Z')"
        ), ()


# What makes csv.writer quote a cell, as a GLOB pattern: its delimiter, its quote character, a
# line break.
_SQLITE_NEEDS_QUOTES = "'*[,\"' || char(13, 10) || ']*'"


class CsvLine(Func):
    """A row as one CSV line in UTF-8 without its line end, byte for byte as csv_text writes it.

    Takes cells made by the query (CsvTime, CsvText, CsvNumber) and plain columns; text is quoted
    where csv.writer would quote it. Fetching one value per row instead of one per cell is most of
    the saving, and bytes are neither decoded nor encoded again. NULL when a cell cannot be written
    here (a time CsvTime does not rearrange, text holding a NUL character, where printf() would
    stop): the caller makes that row another way. SQLite only.
    """

    output_field = BinaryField()

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError("CsvLine is written for SQLite.")

    def as_sqlite(self, compiler, connection, **extra_context):
        cells, checks = [], []
        for expression in self.get_source_expressions():
            if isinstance(expression, CsvTime):
                shape, cell = expression.sqlite_parts(compiler)
                checks.append(shape)
                cells.append(cell)
                continue
            cell, params = compiler.compile(expression)
            if params:
                raise ValueError("CsvLine takes columns and cells made from columns.")
            if isinstance(expression, CsvText) or _is_text_column(expression):
                # A leading ' never needs quotes: the column itself says whether the cell does.
                column = expression._column(compiler) if isinstance(expression, CsvText) else cell
                # ifnull: a NULL column (a nullable one) is a blank cell, not a row to skip.
                checks.append(f"instr(ifnull({column}, ''), char(0)) = 0")
                cell = (
                    f"CASE WHEN {column} GLOB {_SQLITE_NEEDS_QUOTES} "
                    f"THEN printf('\"%%w\"', {cell}) ELSE {cell} END"
                )
            cells.append(cell)
        # One printf() makes the line: joining the cells with || costs SQLite far more.
        line = f"printf('{','.join(['%%s'] * len(cells))}', {', '.join(cells)})"
        if checks:
            line = f"CASE WHEN {' AND '.join(checks)} THEN {line} END"
        # As a blob, sqlite3 hands over the UTF-8 bytes as they are.
        return f"CAST({line} AS BLOB)", ()


def _is_text_column(expression) -> bool:
    # The cells CsvNumber makes are text too, but never need quotes.
    return not isinstance(expression, _CsvCell) and isinstance(
        expression.output_field, (CharField, TextField)
    )


# The first byte of a line whose first cell is a negative number.
_MINUS = ord("-")


@dataclass(frozen=True)
class CopiedCsv:
    """The rows a COPY wrote, as CSV lines in UTF-8 ending in CRLF."""

    text: bytes
    rows: int
    # The last row's line without its line end; empty when there are no rows.
    last: bytes


def copy_csv(*, connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> CopiedCsv:
    """A PostgreSQL query's rows as CSV written by the database (COPY), as csv.writer writes them.

    COPY quotes cells as csv.writer does. Its LF line ends become CRLF, and a cell outside quotes
    that starts with "-" gets a leading ', as csv_cell writes a negative number: text that may
    start like a formula must come made by the query (CsvText).
    """
    statement = connection.ops.compose_sql(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params)
    with connection.cursor() as cursor:
        connection.validate_no_broken_transaction()
        # Listed with the other queries (tests, the debug toolbar) though it bypasses the cursor.
        logged = cursor.debug_sql(statement) if connection.queries_logged else nullcontext()
        with logged, connection.wrap_database_errors:
            pgconn = connection.connection.pgconn
            return _copy_out(pgconn, statement.encode(connection.connection.info.encoding))


def _copy_out(pgconn: pq.abc.PGconn, statement: bytes) -> CopiedCsv:
    """Run a COPY ... TO STDOUT through libpq's own calls (psycopg's pgconn) and read all it writes.

    psycopg's Copy object hands over one row per turn of its wait loop, a few microseconds of Python
    each: at a million rows that alone doubles what the database takes to write them. Here libpq's
    buffer is drained in a tight loop and the thread waits on the socket (GIL released) when empty.
    Each row is copied out at once: a list of every row's buffer would keep the garbage collector
    walking thousands of live objects, which cost more than the loop itself. The database is the
    slower side: the little done here for each row is done while it writes the next ones.
    """
    with selectors.DefaultSelector() as selector:
        selector.register(pgconn.socket, selectors.EVENT_WRITE)
        pgconn.send_query(statement)
        while pgconn.flush():
            selector.select()
        selector.modify(pgconn.socket, selectors.EVENT_READ)
        result = _copy_result(pgconn, selector)
        text = bytearray()
        line = 0
        if result is not None and result.status == pq.ExecStatus.COPY_OUT:
            # One call per row, each a whole record ending in LF whatever its cells hold.
            row, find = pgconn.get_copy_data, text.find
            while True:
                size, data = row(1)
                if size > 0:
                    line = len(text)
                    text += data
                    text[-1:] = b"\r\n"
                    # "-" starting the line or a cell; rare, and then looked at closely.
                    if data[0] == _MINUS or find(b",-", line) != -1:
                        text[line:] = _negatives_neutralised(bytes(text[line:]))
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
    return CopiedCsv(bytes(text), result.command_tuples or 0, bytes(text[line:-2]))


def _negatives_neutralised(line: bytes) -> bytes:
    """A line with a ' before each cell outside quotes that starts with "-"."""
    # Quotes alternate outside and inside quoted cells (a doubled quote too): in the even pieces
    # after splitting on them, a comma ends a cell.
    pieces = line.split(b'"')
    for index in range(0, len(pieces), 2):
        pieces[index] = pieces[index].replace(b",-", b",'-")
    if line.startswith(b"-"):
        pieces[0] = b"'" + pieces[0]
    return b'"'.join(pieces)


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
