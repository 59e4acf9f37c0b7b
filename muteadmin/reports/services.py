"""Exporting the mute report: streamed as CSV, and audited like the audit log's own export."""

import itertools
from collections.abc import Iterator
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser

from muteadmin.audit.exports import AuditedExport
from muteadmin.core.spreadsheets import csv_lines
from muteadmin.reports.selectors import (
    CSV_HEADER,
    EXPORT_BATCH_SIZE,
    MuteReportFilters,
    mute_report_rows,
)

# What an export's audit row says it exported.
REPORT_NAME = "mutes"


class MuteReportExport(AuditedExport):
    """The mute report as it stands at `now`, soonest-ending first."""

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
        super().__init__(
            operator=operator,
            client_ip=client_ip,
            details={"report": REPORT_NAME, "filters": filters.as_details()},
            app=filters.app,
        )

    def chunks(self) -> Iterator[tuple[str, int]]:
        rows = (row.csv_values() for row in mute_report_rows(filters=self.filters, now=self.now))
        lines = csv_lines(CSV_HEADER, rows)
        # The header goes out alone, so the download starts before the first query.
        yield next(lines), 0
        for chunk in itertools.batched(lines, EXPORT_BATCH_SIZE):
            yield "".join(chunk), len(chunk)


def mute_report_export(
    *,
    operator: AbstractBaseUser,
    filters: MuteReportFilters,
    now: datetime,
    client_ip: str | None = None,
) -> MuteReportExport:
    """Start exporting the report as it stands at `now`, its audit row written before any byte."""
    return MuteReportExport(operator=operator, filters=filters, now=now, client_ip=client_ip)
