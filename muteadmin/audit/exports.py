"""The audit log as CSV: streamed in keyset batches, and itself written to the log."""

import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connections
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from muteadmin.audit.filters import AuditFilters
from muteadmin.audit.models import AuditEntry
from muteadmin.audit.selectors import audit_filtered
from muteadmin.audit.services import audit_begin, audit_complete
from muteadmin.core.spreadsheets import (
    CsvLine,
    CsvNumber,
    CsvText,
    CsvTime,
    copy_csv,
    csv_text,
    csv_text_from_records,
)
from muteadmin.upstream.registry import tim_app

# The model fields behind the CSV's columns, in order.
AUDIT_EXPORT_COLUMNS = (
    "id",
    "created_at",
    "operator_username",
    "action",
    "account",
    "c2c_requested",
    "group_requested",
    "c2c_observed",
    "group_observed",
    "reason",
    "outcome",
    "error_code",
    "error_info",
    "latency_ms",
    # Added later, so last: whose request the operator carried out (an approved mute request).
    "on_behalf_of",
    # The code of the policy rule a change was made under.
    "rule",
)
# The CSV's header: each column's field name, but for these two.
_HEADER_NAMES = {"created_at": "time_utc", "operator_username": "operator"}
AUDIT_EXPORT_HEADER = tuple(_HEADER_NAMES.get(name, name) for name in AUDIT_EXPORT_COLUMNS)
# Cells anyone can type (usernames, an account id, a reason, Tencent's message) may start like
# a formula; action and outcome are fixed words.
_TEXT_COLUMNS = ("operator_username", "account", "reason", "error_info", "on_behalf_of", "rule")
# Seconds, error codes and latencies are integers; csv_cell would neutralise a negative one.
_NUMBER_COLUMNS = (
    "c2c_requested",
    "group_requested",
    "c2c_observed",
    "group_observed",
    "error_code",
    "latency_ms",
)
_TIME_COLUMN = "created_at"
# Rows read per query (settings.AUDIT_EXPORT_BATCH_SIZE, this by default): each query is short
# (a tenth of a second or so), so no read transaction outlives a batch; memory stays flat (a batch
# is about 4 MB of CSV); the cost of each query and of the wait between two (planning, a new scan,
# the database idle while the batch is handed on) is spread thin: at 10,000 rows a batch that was
# about a tenth of the export's time on PostgreSQL.
EXPORT_BATCH_SIZE = 50_000
# The first batch (settings.AUDIT_EXPORT_FIRST_BATCH_SIZE): a fiftieth of a second's reading, so
# the first rows show without waiting for a whole batch (a fifth of a second).
FIRST_EXPORT_BATCH_SIZE = 5_000


@dataclass(frozen=True)
class AuditCsvBatch:
    """Consecutive rows of the export, newest first, as CSV lines in UTF-8."""

    text: bytes
    rows: int
    last_id: int


def audit_export_batches(
    *,
    filters: AuditFilters,
    before: int | None = None,
    batch_size: int = EXPORT_BATCH_SIZE,
    first_batch_size: int = FIRST_EXPORT_BATCH_SIZE,
) -> Iterator[AuditCsvBatch]:
    """Rows matching `filters` (below id `before`), newest first, as CSV a batch at a time.

    The first batch is smaller, so the first rows reach the download at once.
    """
    rows = audit_filtered(filters=filters)
    read = _BATCH_READERS.get(connections[rows.db].vendor, _batch_from_values)
    last_id = before
    size = min(first_batch_size, batch_size)
    while True:
        batch = read(rows if last_id is None else rows.filter(id__lt=last_id), size=size)
        if batch is None:
            return
        yield batch
        if batch.rows < size:
            return
        last_id = batch.last_id
        size = batch_size


def _cells(*, numbers: bool = True) -> list:
    """The export's columns as the cells csv_cell would write, made by the database.

    Without `numbers` the integers come as they are, for copy_csv to neutralise.
    """
    cells = {_TIME_COLUMN: CsvTime(_TIME_COLUMN)}
    cells |= {name: CsvText(name) for name in _TEXT_COLUMNS}
    if numbers:
        cells |= {name: CsvNumber(name) for name in _NUMBER_COLUMNS}
    return [cells.get(name, name) for name in AUDIT_EXPORT_COLUMNS]


def _batch_copied(rows: QuerySet[AuditEntry], *, size: int) -> AuditCsvBatch | None:
    """The first `size` rows as CSV written by PostgreSQL itself (COPY), cells made by the query."""
    # Integers go out as they are: copy_csv neutralising the rare negative one costs less than a
    # CASE on six columns of every row costs the database.
    sql, params = _compiled(rows.values_list(*_cells(numbers=False))[:size])
    copied = copy_csv(connection=connections[rows.db], sql=sql, params=params)
    if not copied.rows:
        return None
    last_id = int(copied.last[: copied.last.index(b",")])
    return AuditCsvBatch(text=copied.text, rows=copied.rows, last_id=last_id)


def _batch_from_lines(rows: QuerySet[AuditEntry], *, size: int) -> AuditCsvBatch | None:
    """The first `size` rows as CSV lines made by the query (SQLite), joined here."""
    lines = [line for (line,) in _fetched(rows.values_list(CsvLine(*_cells()))[:size])]
    if not lines:
        return None
    try:
        text = b"\r\n".join(lines) + b"\r\n"
    except TypeError:
        # A row CsvLine cannot write (such as a time stored in another shape): the long way.
        return _batch_from_values(rows, size=size)
    last = lines[-1]
    return AuditCsvBatch(text=text, rows=len(lines), last_id=int(last[: last.index(b",")]))


def _batch_from_values(rows: QuerySet[AuditEntry], *, size: int) -> AuditCsvBatch | None:
    """The first `size` rows read as stored values and made into cells here, one by one."""
    columns = list(AUDIT_EXPORT_COLUMNS)
    if connections[rows.db].vendor == "sqlite":
        # As text: sqlite3 would parse each time into a datetime just to turn it back into text.
        columns[AUDIT_EXPORT_COLUMNS.index(_TIME_COLUMN)] = Cast(
            _TIME_COLUMN, output_field=TextField()
        )
    records = _fetched(rows.values_list(*columns)[:size])
    if not records:
        return None
    text = csv_text_from_records(
        records,
        time_columns=[AUDIT_EXPORT_COLUMNS.index(_TIME_COLUMN)],
        text_columns=[AUDIT_EXPORT_COLUMNS.index(name) for name in _TEXT_COLUMNS],
        number_columns=[AUDIT_EXPORT_COLUMNS.index(name) for name in _NUMBER_COLUMNS],
    )
    return AuditCsvBatch(text=text.encode(), rows=len(records), last_id=records[-1][0])


# PostgreSQL writes the CSV itself; SQLite makes each line; any other database gets the long way.
_BATCH_READERS = {"postgresql": _batch_copied, "sqlite": _batch_from_lines}


def _fetched(rows: QuerySet) -> list[tuple]:
    # Django's per-value converters are skipped: the rows are cells or stored values already.
    sql, params = _compiled(rows)
    with connections[rows.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _compiled(rows: QuerySet) -> tuple[str, tuple]:
    return rows.query.get_compiler(using=rows.db).as_sql()


class AuditedExport:
    """A CSV download in progress: audited before its first byte, the row completed at its end.

    Subclasses yield (text, rows in it) from `chunks()`; iterate the export for the text. The
    row records the app exported (`app`), or the default app for an export of every app; its
    details hold the filters as typed, the app filter among them.
    """

    def __init__(
        self,
        *,
        operator: AbstractBaseUser,
        client_ip: str | None,
        details: dict,
        app: str | None = None,
    ) -> None:
        self.rows_sent = 0
        self._started = time.monotonic()
        # Written now, before the first byte leaves, so an export that never finishes still shows.
        self.entry = audit_begin(
            operator=operator,
            action=AuditEntry.Action.EXPORT,
            account="",
            reason="",
            client_ip=client_ip,
            details=details,
            app=app or tim_app().name,
        )
        self._chunks = self._generate()

    def chunks(self) -> Iterator[tuple[str | bytes, int]]:
        raise NotImplementedError

    def __iter__(self) -> Iterator[str | bytes]:
        return self._chunks

    def close(self) -> None:
        """Called by the server when the response ends, including when the client went away."""
        self._chunks.close()
        # A stream closed before its first chunk never ran its own bookkeeping.
        if not self.entry.is_completed:
            self._complete(outcome=AuditEntry.Outcome.ERROR, error_info=self._interrupted())

    def _generate(self) -> Iterator[str | bytes]:
        outcome, error_info = AuditEntry.Outcome.ERROR, ""
        try:
            for text, rows in self.chunks():
                # Counted as sent once handed over, even if the client then goes away.
                self.rows_sent += rows
                yield text
            outcome = AuditEntry.Outcome.OK
        except GeneratorExit:
            error_info = self._interrupted()
            raise
        except Exception as exc:
            # A fault on our side: the row must not stay pending as if the export were running.
            error_info = f"Export failed after {self.rows_sent} rows ({type(exc).__name__})."
            raise
        finally:
            self._complete(outcome=outcome, error_info=error_info)

    def _interrupted(self) -> str:
        return f"Export interrupted after {self.rows_sent} rows."

    def _complete(self, *, outcome: str, error_info: str) -> None:
        audit_complete(
            entry=self.entry,
            outcome=outcome,
            latency_ms=round((time.monotonic() - self._started) * 1000),
            request_random=None,
            error_info=error_info,
            details={"rows": self.rows_sent},
        )


class AuditExport(AuditedExport):
    """The audit log's rows matching some filters, newest first."""

    def __init__(
        self, *, filters: AuditFilters, operator: AbstractBaseUser, client_ip: str | None
    ) -> None:
        self.filters = filters
        super().__init__(
            operator=operator,
            client_ip=client_ip,
            details={"filters": filters.as_details()},
            app=filters.app,
        )

    def chunks(self) -> Iterator[tuple[bytes, int]]:
        # The header goes out alone, so the download starts before the first query.
        yield csv_text([AUDIT_EXPORT_HEADER]).encode(), 0
        # Rows written after the export began (its own row among them) belong to the next one.
        batches = audit_export_batches(
            filters=self.filters,
            before=self.entry.pk,
            batch_size=getattr(settings, "AUDIT_EXPORT_BATCH_SIZE", EXPORT_BATCH_SIZE),
            first_batch_size=getattr(
                settings, "AUDIT_EXPORT_FIRST_BATCH_SIZE", FIRST_EXPORT_BATCH_SIZE
            ),
        )
        for batch in batches:
            yield batch.text, batch.rows


def audit_export(
    *, filters: AuditFilters, operator: AbstractBaseUser, client_ip: str | None = None
) -> AuditExport:
    """Start exporting the rows matching `filters`, its audit row written before any byte."""
    return AuditExport(filters=filters, operator=operator, client_ip=client_ip)
