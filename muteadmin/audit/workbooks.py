"""The audit log as an .xlsx workbook: the CSV's columns as typed cells, read in keyset batches."""

from collections.abc import Iterator
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.translation import gettext_lazy as _

from muteadmin.audit.exports import AUDIT_EXPORT_COLUMNS, AuditedExport
from muteadmin.audit.filters import AuditFilters
from muteadmin.audit.models import AuditEntry
from muteadmin.audit.selectors import audit_filtered
from muteadmin.core.durations import remaining_in_words, requested_in_words
from muteadmin.core.workbooks import Kind, XlsxColumn, XlsxStream

# The CSV's columns (AUDIT_EXPORT_COLUMNS), in the same order, with headings that translate.
AUDIT_XLSX_COLUMNS = (
    XlsxColumn(_("ID"), Kind.NUMBER, 10),
    XlsxColumn(_("Time"), Kind.TIME, 20),
    XlsxColumn(_("Operator"), width=16),
    XlsxColumn(_("Action"), width=14),
    XlsxColumn(_("Account"), width=20),
    XlsxColumn(_("C2C mute asked for"), width=16),
    XlsxColumn(_("Group mute asked for"), width=16),
    XlsxColumn(_("C2C mute seen"), width=16),
    XlsxColumn(_("Group mute seen"), width=16),
    XlsxColumn(_("Reason"), width=40),
    XlsxColumn(_("Outcome"), width=12),
    XlsxColumn(_("Error code"), Kind.NUMBER, 10),
    XlsxColumn(_("Error message"), width=40),
    XlsxColumn(_("Latency (ms)"), Kind.NUMBER, 12),
    XlsxColumn(_("On behalf of"), width=16),
    XlsxColumn(_("Rule"), width=12),
)
AUDIT_XLSX_TITLE = _("Audit log")
# Rows read per query. Far smaller than the CSV's batches: here each row is held as Python
# objects (most of a kilobyte) rather than as CSV text, and writing its cells costs far more than
# its share of a query, so small batches keep memory low at no cost in time.
XLSX_BATCH_SIZE = 2_000

# Lengths asked for whose words are kept during one export.
_WORDS_KEPT = 1_000
_INDEX = {name: index for index, name in enumerate(AUDIT_EXPORT_COLUMNS)}
_REQUESTED = (_INDEX["c2c_requested"], _INDEX["group_requested"])
_OBSERVED = (_INDEX["c2c_observed"], _INDEX["group_observed"])
_ACTION = _INDEX["action"]
_OUTCOME = _INDEX["outcome"]


def audit_export_records(
    *, filters: AuditFilters, before: int | None = None, batch_size: int = XLSX_BATCH_SIZE
) -> Iterator[tuple[Any, ...]]:
    """Rows matching `filters` (below id `before`), newest first, as AUDIT_EXPORT_COLUMNS' values.

    Read `batch_size` rows a query, each query starting below the last id read (no OFFSET).
    """
    rows = audit_filtered(filters=filters).values_list(*AUDIT_EXPORT_COLUMNS)
    last_id = before
    while True:
        batch = list((rows if last_id is None else rows.filter(id__lt=last_id))[:batch_size])
        yield from batch
        if len(batch) < batch_size:
            return
        last_id = batch[-1][0]


class AuditXlsxCells:
    """Turns rows into the workbook's cells: lengths and fixed words in words.

    Made once per export: the words for the lengths asked for (a few that moderators choose),
    actions and outcomes are looked up and translated once, not once a row. Lengths seen are
    seconds left, nearly all different, so they are not kept.
    """

    def __init__(self) -> None:
        self.requested: dict[int, str] = {}
        self.actions = {value: str(label) for value, label in AuditEntry.Action.choices}
        self.outcomes = {value: str(label) for value, label in AuditEntry.Outcome.choices}

    def __call__(self, record: tuple[Any, ...]) -> list[Any]:
        cells = list(record)
        for index in _REQUESTED:
            if cells[index] is not None:
                cells[index] = self._requested(cells[index])
        for index in _OBSERVED:
            if cells[index] is not None:
                cells[index] = remaining_in_words(cells[index])
        cells[_ACTION] = self.actions.get(cells[_ACTION], cells[_ACTION])
        cells[_OUTCOME] = self.outcomes.get(cells[_OUTCOME], cells[_OUTCOME])
        return cells

    def _requested(self, seconds: int) -> str:
        words = self.requested.get(seconds)
        if words is None:
            words = requested_in_words(seconds)
            # Bounded, should a log hold many custom lengths.
            if len(self.requested) < _WORDS_KEPT:
                self.requested[seconds] = words
        return words


class AuditXlsxExport(AuditedExport):
    """The audit log's rows matching some filters, newest first, as a workbook."""

    def __init__(
        self,
        *,
        filters: AuditFilters,
        operator: AbstractBaseUser,
        client_ip: str | None,
        batch_size: int = XLSX_BATCH_SIZE,
    ) -> None:
        super().__init__(
            operator=operator,
            client_ip=client_ip,
            details={"filters": filters.as_details(), "format": "xlsx"},
            app=filters.app,
        )
        # Rows written after the export began (its own row among them) belong to the next one.
        records = audit_export_records(filters=filters, before=self.entry.pk, batch_size=batch_size)
        self.workbook = XlsxStream(
            title=AUDIT_XLSX_TITLE,
            columns=AUDIT_XLSX_COLUMNS,
            rows=_cells_of(records),
        )

    def chunks(self) -> Iterator[tuple[bytes, int]]:
        return self.workbook.chunks()


def _cells_of(records: Iterator[tuple[Any, ...]]) -> Iterator[list[Any]]:
    # Made when the workbook is written, in the language it is written in.
    cells = AuditXlsxCells()
    for record in records:
        yield cells(record)


def audit_export_xlsx(
    *, filters: AuditFilters, operator: AbstractBaseUser, client_ip: str | None = None
) -> AuditXlsxExport:
    """Start exporting the rows matching `filters` as .xlsx, its audit row written first."""
    return AuditXlsxExport(filters=filters, operator=operator, client_ip=client_ip)
