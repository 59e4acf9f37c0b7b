"""Exporting the mute report: streamed as CSV, and audited like the audit log's own export."""

import time
from collections.abc import Iterator
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_begin, audit_complete
from muteadmin.reports.selectors import (
    CSV_HEADER,
    EXPORT_BATCH_SIZE,
    MuteReportFilters,
    mute_report_rows,
)
from muteadmin.spreadsheets import csv_lines

# What an export's audit row says it exported.
REPORT_NAME = "mutes"


class MuteReportExport:
    """An export in progress: iterate it for CSV text; its audit row completes when it ends."""

    def __init__(
        self,
        *,
        operator: AbstractBaseUser,
        filters: MuteReportFilters,
        now: datetime,
        client_ip: str | None,
    ) -> None:
        self.filters = filters
        self.now = now
        self.rows_sent = 0
        self._started = time.monotonic()
        # Written now, before the first byte leaves, so an export that never finishes still shows.
        self.entry = audit_begin(
            operator=operator,
            action=AuditEntry.Action.EXPORT,
            account="",
            client_ip=client_ip,
            details={"report": REPORT_NAME, "filters": filters.as_details()},
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
            rows = (
                row.csv_values() for row in mute_report_rows(filters=self.filters, now=self.now)
            )
            lines = csv_lines(CSV_HEADER, rows)
            # The header goes out alone, so the download starts before the first query.
            yield next(lines)
            chunk: list[str] = []
            for line in lines:
                chunk.append(line)
                if len(chunk) == EXPORT_BATCH_SIZE:
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


def mute_report_export(
    *,
    operator: AbstractBaseUser,
    filters: MuteReportFilters,
    now: datetime,
    client_ip: str | None = None,
) -> MuteReportExport:
    """Start exporting the report as it stands at `now`, its audit row written before any byte."""
    return MuteReportExport(operator=operator, filters=filters, now=now, client_ip=client_ip)
