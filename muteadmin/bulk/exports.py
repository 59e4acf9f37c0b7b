"""A bulk job's results as an .xlsx workbook: the CSV's columns as typed cells, in list order."""

from django.utils.translation import gettext_lazy as _

from muteadmin.bulk.models import BulkItem, BulkJob
from muteadmin.bulk.selectors import RESULTS_CSV_HEADER, bulk_results_rows
from muteadmin.core.durations import remaining_in_words
from muteadmin.core.workbooks import Kind, XlsxColumn, XlsxStream

# RESULTS_CSV_HEADER's columns, in the same order, with headings that translate.
RESULTS_XLSX_COLUMNS = (
    XlsxColumn(_("Account"), width=20),
    XlsxColumn(_("Outcome"), width=12),
    XlsxColumn(_("Error code"), Kind.NUMBER, 10),
    XlsxColumn(_("Error message"), width=40),
    XlsxColumn(_("C2C mute seen"), width=16),
    XlsxColumn(_("Group mute seen"), width=16),
)
RESULTS_XLSX_TITLE = _("Results")
# The CSV's outcomes as the results table names them.
_OUTCOME_WORDS = {
    "ok": BulkItem.State.OK.label,
    "error": BulkItem.State.ERROR.label,
    "skipped": BulkItem.State.SKIPPED.label,
    "not_sent": BulkItem.State.TODO.label,
}
_OUTCOME = RESULTS_CSV_HEADER.index("outcome")
_OBSERVED = (RESULTS_CSV_HEADER.index("c2c_observed"), RESULTS_CSV_HEADER.index("group_observed"))


def bulk_results_xlsx_cells(row: tuple) -> list:
    """One account's result as the workbook shows it: outcome and lengths in words."""
    cells = list(row)
    cells[_OUTCOME] = str(_OUTCOME_WORDS.get(cells[_OUTCOME], cells[_OUTCOME]))
    for index in _OBSERVED:
        if cells[index] is not None:
            cells[index] = remaining_in_words(cells[index])
    return cells


def bulk_results_xlsx(*, job: BulkJob) -> XlsxStream:
    """Every account's outcome as a workbook, written when first read."""
    return XlsxStream(
        title=RESULTS_XLSX_TITLE,
        columns=RESULTS_XLSX_COLUMNS,
        rows=(bulk_results_xlsx_cells(row) for row in bulk_results_rows(job=job)),
    )
