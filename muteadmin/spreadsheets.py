"""CSV for spreadsheets: streamed row by row, with formula-looking cells neutralised."""

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.utils import timezone

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP's list).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


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
