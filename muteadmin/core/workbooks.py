"""Spreadsheets as .xlsx: typed cells, every text a string cell, written in constant memory.

XlsxWriter in its constant-memory mode writes each row to a temporary file as soon as the next
one begins and keeps text inline in the sheet, so memory stays flat however many rows (and however
many different texts) go in. The workbook is put together in a temporary file when the last row
is written, and then handed out from there a chunk at a time.
"""

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import IO, Any

import xlsxwriter
from django.utils import timezone, translation
from django.utils.translation import gettext

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel's own limits: rows on one sheet (the header among them), characters in one cell.
SHEET_ROWS = 1_048_576
SHEET_TITLE_LENGTH = 31
# How a date cell reads in Excel: the same shape as the pages, to the second.
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
# Bytes read from the finished file per chunk of the download.
CHUNK_SIZE = 1 << 20
# A sheet title may not hold these.
_TITLE_FORBIDDEN = str.maketrans({character: " " for character in "[]:*?/\\"})
# Never turn text into anything but text: no formulas, links or numbers guessed from a string.
_WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


class Kind(StrEnum):
    """What a column holds, which decides the cell written for it."""

    TEXT = "text"
    NUMBER = "number"
    TIME = "time"


@dataclass(frozen=True)
class XlsxColumn:
    """One column: its heading (translated when written, so pass gettext_lazy), kind and width."""

    header: Any
    kind: Kind = Kind.TEXT
    width: float = 16


@dataclass
class XlsxFile:
    """A finished workbook in a temporary file, read from its start, and the rows it holds."""

    file: IO[bytes]
    rows: int


def xlsx_headers(columns: Sequence[XlsxColumn], *, zone: tzinfo) -> list[str]:
    """The headings in the active language, each time column naming the zone its times are in."""
    headers = []
    for column in columns:
        header = str(column.header)
        if column.kind is Kind.TIME:
            header = gettext("%(column)s (%(zone)s)") % {"column": header, "zone": str(zone)}
        headers.append(header)
    return headers


def xlsx_write(
    *,
    title: str,
    columns: Sequence[XlsxColumn],
    rows: Iterable[Sequence[Any]],
    zone: tzinfo | None = None,
    sheet_rows: int = SHEET_ROWS,
) -> XlsxFile:
    """Write `rows` (values in `columns`' order, None for a blank cell) into a new workbook.

    Times are shown in `zone` (the current time zone by default) as date cells; text of any
    kind, a leading "=" or "+" included, is always a string cell. Rows that do not fit one sheet
    go on to another, "<title> (2)", under the same header.
    """
    zone = zone or timezone.get_current_timezone()
    # Handed on open to the caller, who reads it and closes it (which deletes it).
    output = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        # XlsxWriter's own temporary files (the rows, each part of the package) go in a folder
        # removed at the end whatever happens: it deletes them itself only once it has finished.
        with tempfile.TemporaryDirectory(prefix="muteadmin-xlsx-") as scratch:
            book = xlsxwriter.Workbook(output, _WORKBOOK_OPTIONS | {"tmpdir": scratch})
            sheets = _Sheets(book, title=title, columns=columns, zone=zone)
            written = sheets.fill(rows, sheet_rows=sheet_rows)
            book.close()
    except BaseException:
        output.close()
        raise
    output.seek(0)
    return XlsxFile(output, written)


class XlsxStream:
    """A workbook written when first read, in the time zone and language active when it was made.

    A streamed response is read after the view has returned, when the request's zone and
    language may no longer be the active ones: both are kept from the start.
    """

    def __init__(
        self,
        *,
        title: Any,
        columns: Sequence[XlsxColumn],
        rows: Iterable[Sequence[Any]],
        sheet_rows: int = SHEET_ROWS,
    ) -> None:
        self.title = title
        self.columns = columns
        self.rows = rows
        self.sheet_rows = sheet_rows
        self.zone = timezone.get_current_timezone()
        self.language = translation.get_language()

    def chunks(self) -> Iterator[tuple[bytes, int]]:
        """(bytes, rows in them): every row is written first, so the first chunk holds them all."""
        with translation.override(self.language), timezone.override(self.zone):
            finished = xlsx_write(
                title=str(self.title),
                columns=self.columns,
                rows=self.rows,
                zone=self.zone,
                sheet_rows=self.sheet_rows,
            )
        rows = finished.rows
        try:
            while chunk := finished.file.read(CHUNK_SIZE):
                yield chunk, rows
                rows = 0
        finally:
            # Closing the temporary file deletes it, whether or not the download was finished.
            finished.file.close()

    def __iter__(self) -> Iterator[bytes]:
        for chunk, _ in self.chunks():
            yield chunk


class _Sheets:
    """The workbook's sheets, each begun with the header, filled a row at a time."""

    def __init__(
        self, book: xlsxwriter.Workbook, *, title: str, columns: Sequence[XlsxColumn], zone: tzinfo
    ) -> None:
        self.book = book
        self.title = title.translate(_TITLE_FORBIDDEN).strip() or "Sheet"
        self.columns = columns
        self.kinds = [column.kind for column in columns]
        self.zone = zone
        self.headers = xlsx_headers(columns, zone=zone)
        self.header_format = book.add_format({"bold": True})
        self.time_format = book.add_format({"num_format": TIME_FORMAT})
        self.count = 0

    def fill(self, rows: Iterable[Sequence[Any]], *, sheet_rows: int) -> int:
        """Write every row, starting a sheet whenever one is full; the number of rows written."""
        sheet = self._begin()
        line = written = 0
        kinds, zone, time_format = self.kinds, self.zone, self.time_format
        for row in rows:
            line += 1
            if line == sheet_rows:
                self._end(sheet, last=line - 1)
                sheet, line = self._begin(), 1
            for column, (kind, value) in enumerate(zip(kinds, row, strict=True)):
                if value is None or value == "":
                    continue
                if kind is Kind.TEXT:
                    sheet.write_string(line, column, str(value))
                elif kind is Kind.NUMBER:
                    sheet.write_number(line, column, value)
                else:
                    sheet.write_datetime(line, column, _local(value, zone), time_format)
            written += 1
        self._end(sheet, last=line)
        return written

    def _begin(self):
        self.count += 1
        name = self.title if self.count == 1 else f"{self.title} ({self.count})"
        if len(name) > SHEET_TITLE_LENGTH:
            suffix = name[len(self.title) :]
            name = self.title[: SHEET_TITLE_LENGTH - len(suffix)] + suffix
        sheet = self.book.add_worksheet(name)
        for index, column in enumerate(self.columns):
            sheet.set_column(index, index, column.width)
        sheet.freeze_panes(1, 0)
        for index, header in enumerate(self.headers):
            sheet.write_string(0, index, header, self.header_format)
        return sheet

    def _end(self, sheet, *, last: int) -> None:
        # Filter buttons on the header, over the rows written.
        sheet.autofilter(0, 0, last, len(self.columns) - 1)


def _local(value: datetime, zone: tzinfo) -> datetime:
    """A stored time as the wall-clock time in `zone`; Excel's cells know no time zone."""
    if timezone.is_naive(value):
        # Stored times are UTC.
        value = value.replace(tzinfo=timezone.UTC)
    return value.astimezone(zone).replace(tzinfo=None)
