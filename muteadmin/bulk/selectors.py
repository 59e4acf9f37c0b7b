"""Reading bulk jobs: progress for the live bar, results page by page and as CSV rows."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.selectors import audit_first_id_from
from muteadmin.bulk.models import BulkItem, BulkJob
from muteadmin.core.pagination import Keyset

# Calls per second are counted over this many recent seconds of the job's audit rows.
RATE_WINDOW_SECONDS = 5
RESULTS_PAGE_SIZE = 100
# A job's accounts in list order, off the (job, position) index.
RESULTS_KEYSET = Keyset(("position", int))
CSV_CHUNK = 2_000
RESULTS_CSV_HEADER = (
    "account",
    "outcome",
    "error_code",
    "error_info",
    "c2c_observed",
    "group_observed",
)


def bulk_recent_jobs(*, limit: int = 20) -> list[BulkJob]:
    """The latest jobs, newest first, for the list under the form."""
    return list(BulkJob.objects.order_by("-id")[:limit])


def bulk_job_calls_per_second(*, job: BulkJob, now: datetime | None = None) -> float:
    """Upstream calls per second: lately while running, on average once finished."""
    calls = AuditEntry.objects.filter(job_id=job.pk)
    if job.finished:
        if job.started_at is None or job.finished_at is None:
            return 0.0
        seconds = (job.finished_at - job.started_at).total_seconds()
        return round(calls.count() / seconds, 1) if seconds > 0 else 0.0
    now = now or timezone.now()
    since = now - timedelta(seconds=RATE_WINDOW_SECONDS)
    if job.started_at is None:
        return 0.0
    since = max(since, job.started_at)
    seconds = (now - since).total_seconds()
    if seconds <= 0:
        return 0.0
    recent = calls.filter(id__gte=audit_first_id_from(moment=since)).count()
    return round(recent / seconds, 1)


def bulk_job_status(*, job: BulkJob, now: datetime | None = None) -> dict[str, Any]:
    """What the progress bar shows: the contract's five keys, then rate, time left and more."""
    rate = bulk_job_calls_per_second(job=job, now=now)
    remaining = job.total - job.done
    eta = None
    if not job.finished and rate > 0:
        # One call per account, so accounts per second is calls per second.
        eta = round(remaining / rate)
    return {
        "state": job.state,
        "total": job.total,
        "done": job.done,
        "ok": job.ok,
        "errors": job.errors,
        "not_sent": remaining if job.finished else 0,
        "calls_per_second": rate,
        "eta_seconds": eta,
        "cancel_requested": job.cancel_requested,
    }


@dataclass(frozen=True)
class ResultsPage:
    """A page of a job's accounts in list order, and where the next page starts."""

    items: list[BulkItem]
    next_after: int | None


# Said instead of a job's results while it still runs (its CSV and the API's results).
RESULTS_NOT_READY = gettext_lazy("The results are ready when the job is done or cancelled.")


def bulk_item_outcome(state: str) -> str:
    """An account's outcome as results name it: ok, error, skipped (changed since it was
    scheduled), or not_sent (never tried, or cut off)."""
    finished = (BulkItem.State.OK, BulkItem.State.ERROR, BulkItem.State.SKIPPED)
    return state if state in finished else "not_sent"


# The results table's ?outcome= filter: each outcome and the item states it covers.
RESULT_OUTCOMES = {
    "ok": (BulkItem.State.OK,),
    "error": (BulkItem.State.ERROR,),
    "skipped": (BulkItem.State.SKIPPED,),
    "not_sent": (BulkItem.State.TODO, BulkItem.State.IN_FLIGHT),
}


def bulk_results_page(
    *, job: BulkJob, after: int = 0, size: int | None = None, outcome: str = ""
) -> ResultsPage:
    """The accounts after position `after`, straight off the (job, position) index.

    `outcome` (a RESULT_OUTCOMES key) keeps only those accounts, off the (job, state, position)
    index; any other value keeps every account.
    """
    items = BulkItem.objects.filter(job=job)
    if outcome in RESULT_OUTCOMES:
        items = items.filter(state__in=RESULT_OUTCOMES[outcome])
    page = RESULTS_KEYSET.page(
        items,
        after=(after,) if after else None,
        size=size or RESULTS_PAGE_SIZE,
    )
    next_after = RESULTS_KEYSET.position(page.rows[-1])[0] if page.has_next else None
    return ResultsPage(items=page.rows, next_after=next_after)


def bulk_results_rows(*, job: BulkJob) -> Iterator[tuple[Any, ...]]:
    """One row per account in list order, matching RESULTS_CSV_HEADER, read in chunks."""
    items = (
        BulkItem.objects.filter(job=job)
        .order_by("position")
        .values_list(
            "account", "state", "error_code", "error_info", "c2c_observed", "group_observed"
        )
    )
    for account, state, error_code, error_info, c2c, group in items.iterator(chunk_size=CSV_CHUNK):
        yield (account, bulk_item_outcome(state), error_code, error_info, c2c, group)


def bulk_backlog() -> int:
    """Accounts queued or running jobs still have to send (for /metrics)."""
    return BulkItem.objects.filter(
        job__state__in=(BulkJob.State.QUEUED, BulkJob.State.RUNNING),
        state__in=(BulkItem.State.TODO, BulkItem.State.IN_FLIGHT),
    ).count()
