"""The audit log as CSV: streamed in keyset batches, and itself written to the log."""

import time
from collections.abc import Iterator

from django.contrib.auth.base_user import AbstractBaseUser

from muteadmin.audit.filters import AuditFilters
from muteadmin.audit.models import AuditEntry
from muteadmin.audit.selectors import audit_filtered
from muteadmin.audit.services import audit_begin, audit_complete
from muteadmin.spreadsheets import csv_lines

AUDIT_EXPORT_HEADER = (
    "id",
    "time_utc",
    "operator",
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
)
# The model fields behind each header name, in the same order.
_COLUMNS = (
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
)
# Rows read per query: short queries, so no read transaction outlives a batch and memory stays flat.
EXPORT_BATCH_SIZE = 2000
# Lines handed to the server at once: fewer, larger writes than one per row.
CHUNK_ROWS = 500


def audit_export_rows(
    *, filters: AuditFilters, before: int | None = None, batch_size: int = EXPORT_BATCH_SIZE
) -> Iterator[tuple]:
    """Rows matching `filters` (below id `before`), newest first, as tuples in header order."""
    rows = audit_filtered(filters=filters).values_list(*_COLUMNS)
    cursor = before
    while True:
        batch = list((rows if cursor is None else rows.filter(id__lt=cursor))[:batch_size])
        yield from batch
        if len(batch) < batch_size:
            return
        cursor = batch[-1][0]


class AuditExport:
    """An export in progress: iterate it for CSV text; its audit row completes when it ends."""

    def __init__(
        self, *, filters: AuditFilters, operator: AbstractBaseUser, client_ip: str | None
    ) -> None:
        self.filters = filters
        self.rows_sent = 0
        self._started = time.monotonic()
        self.entry = audit_begin(
            operator=operator,
            action=AuditEntry.Action.EXPORT,
            account="",
            reason="",
            client_ip=client_ip,
            details={"filters": filters.as_details()},
        )
        self._chunks = self._generate()

    def __iter__(self) -> Iterator[str]:
        return self._chunks

    def close(self) -> None:
        """Called by the server when the response ends, including when the client went away."""
        self._chunks.close()
        # A stream closed before its first chunk never ran its own bookkeeping.
        if not self.entry.is_completed:
            self._complete(outcome=AuditEntry.Outcome.ERROR, error_info=self._interrupted())

    def _generate(self) -> Iterator[str]:
        outcome, error_info = AuditEntry.Outcome.ERROR, ""
        try:
            # Rows written after the export began (its own row among them) belong to the next one.
            rows = audit_export_rows(filters=self.filters, before=self.entry.pk)
            lines = csv_lines(AUDIT_EXPORT_HEADER, rows)
            # The header goes out alone, so the download starts before the first query.
            yield next(lines)
            chunk: list[str] = []
            for line in lines:
                chunk.append(line)
                if len(chunk) == CHUNK_ROWS:
                    # Counted as sent once handed over, even if the client then goes away.
                    self.rows_sent += len(chunk)
                    yield "".join(chunk)
                    chunk = []
            if chunk:
                self.rows_sent += len(chunk)
                yield "".join(chunk)
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


def audit_export(
    *, filters: AuditFilters, operator: AbstractBaseUser, client_ip: str | None = None
) -> AuditExport:
    """Start exporting the rows matching `filters`, its audit row written before any byte."""
    return AuditExport(filters=filters, operator=operator, client_ip=client_ip)
