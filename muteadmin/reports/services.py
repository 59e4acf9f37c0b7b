"""Exporting the mute report: streamed as CSV or .xlsx, audited like the audit log's own export."""

import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.translation import gettext_lazy as _

from muteadmin.audit.exports import AuditedExport
from muteadmin.core.spreadsheets import csv_lines
from muteadmin.core.workbooks import Kind, XlsxColumn, XlsxStream
from muteadmin.reports.selectors import (
    CSV_HEADER,
    EXPORT_BATCH_SIZE,
    MUTED,
    NONE,
    PERMANENT_STATE,
    MuteReportFilters,
    MuteReportRow,
    mute_report_rows,
)

# What an export's audit row says it exported.
REPORT_NAME = "mutes"


class MuteReportExport(AuditedExport):
    """The mute report as it stands at `now`, soonest-ending first."""

    # Named in the export's audit row when it is not CSV.
    format = "csv"

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
        details = {"report": REPORT_NAME, "filters": filters.as_details()}
        if self.format != "csv":
            details["format"] = self.format
        super().__init__(operator=operator, client_ip=client_ip, details=details, app=filters.app)

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


# CSV_HEADER's columns, in the same order, with headings that translate.
REPORT_XLSX_COLUMNS = (
    XlsxColumn(_("Account"), width=20),
    XlsxColumn(_("C2C mute")),
    XlsxColumn(_("C2C mute ends"), Kind.TIME, 20),
    XlsxColumn(_("Group mute")),
    XlsxColumn(_("Group mute ends"), Kind.TIME, 20),
    XlsxColumn(_("Last change"), Kind.TIME, 20),
    XlsxColumn(_("Last changed by")),
    XlsxColumn(_("Last reason"), width=40),
    XlsxColumn(_("Seen at"), Kind.TIME, 20),
    XlsxColumn(_("Rule"), width=12),
)
REPORT_XLSX_TITLE = _("Mutes")
# The report's states (the CSV's c2c_state and group_state) in words that translate.
_STATE_WORDS = {MUTED: _("muted"), PERMANENT_STATE: _("permanent"), NONE: _("not muted")}
_STATE_COLUMNS = (CSV_HEADER.index("c2c_state"), CSV_HEADER.index("group_state"))


def mute_report_xlsx_cells(row: MuteReportRow) -> list:
    """One report row as the workbook shows it, states in words."""
    cells = list(row.csv_values())
    for index in _STATE_COLUMNS:
        cells[index] = str(_STATE_WORDS.get(cells[index], cells[index]))
    return cells


class MuteReportXlsxExport(MuteReportExport):
    """The mute report as it stands at `now`, soonest-ending first, as a workbook."""

    format = "xlsx"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        rows = mute_report_rows(filters=self.filters, now=self.now)
        self.workbook = XlsxStream(
            title=REPORT_XLSX_TITLE,
            columns=REPORT_XLSX_COLUMNS,
            rows=(mute_report_xlsx_cells(row) for row in rows),
        )

    def chunks(self) -> Iterator[tuple[bytes, int]]:
        return self.workbook.chunks()


def mute_report_export_xlsx(
    *,
    operator: AbstractBaseUser,
    filters: MuteReportFilters,
    now: datetime,
    client_ip: str | None = None,
) -> MuteReportXlsxExport:
    """Start exporting the report as it stands at `now` as .xlsx, its audit row written first."""
    return MuteReportXlsxExport(operator=operator, filters=filters, now=now, client_ip=client_ip)
