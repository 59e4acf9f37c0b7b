"""What each account's call came to, written to its item and the job's counters; finishing a job.

An account whose call failed with something a later try may not meet is put back for later
(`muteadmin.tencent.retry.reschedule_delay`), not tried again in a loop: the job goes on meanwhile.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, F, Q

from muteadmin.audit.models import AuditEntry
from muteadmin.bulk.leases import Claimed
from muteadmin.bulk.models import BulkItem, BulkJob
from muteadmin.core.sql import update_each
from muteadmin.robots.events import notify_event
from muteadmin.robots.models import EVENT_BULK_FINISHED
from muteadmin.tencent.errors import TencentError


@dataclass(frozen=True)
class Outcome:
    """How an account's call ended; `retry_after` (seconds) puts it back for later instead."""

    ok: bool
    c2c_observed: int | None = None
    group_observed: int | None = None
    error_code: int | None = None
    error_info: str = ""
    audit_entry_id: int | None = None
    retry_after: float | None = None
    # Not sent: a job started later found the account changed since it was scheduled.
    skipped: bool = False


def outcome_failed(
    exc: Exception, *, audit_entry_id: int | None = None, retry_after: float | None = None
) -> Outcome:
    """An account that failed with `exc`: Tencent's code and words, or why it was not sent."""
    if isinstance(exc, TencentError):
        return Outcome(
            ok=False,
            error_code=exc.error_code,
            error_info=exc.error_info or exc.moderator_message,
            audit_entry_id=audit_entry_id,
            retry_after=retry_after,
        )
    return Outcome(ok=False, error_info=str(exc), audit_entry_id=audit_entry_id)


_FINISHED_FIELDS = (
    "state",
    "finished_at",
    "lease_until",
    "error_code",
    "error_info",
    "c2c_observed",
    "group_observed",
    "audit_entry_id",
)
_RESCHEDULED_FIELDS = (
    "state",
    "claimed_by",
    "claimed_at",
    "lease_until",
    "not_before",
    "rescheduled",
    "error_code",
    "error_info",
)


def outcomes_record(
    *, job_id: int, worker: str, outcomes: list[tuple[Claimed, Outcome]], now: datetime
) -> None:
    """Finish or reschedule the items and count them in one transaction, skipping any another
    worker took.

    Should this worker die before it commits, the items are re-checked: a lookup is asked
    again, and a change is settled from its audit row without another call.
    """
    unknown = [item.account for item, outcome in outcomes if outcome.audit_entry_id is None]
    entries = _last_entry_ids(job_id, unknown) if unknown else {}
    finished: dict[bool, list[tuple]] = {True: [], False: []}
    later = []
    for item, outcome in outcomes:
        if outcome.retry_after is not None:
            later.append(_rescheduled_row(item, outcome, now=now))
            continue
        finished[outcome.ok].append(
            (
                _finished_state(outcome),
                now,
                None,
                outcome.error_code,
                outcome.error_info,
                outcome.c2c_observed,
                outcome.group_observed,
                outcome.audit_entry_id or entries.get(item.account),
                item.id,
            )
        )
    mine = {"state": BulkItem.State.IN_FLIGHT, "claimed_by": worker}
    with transaction.atomic():
        ok, errors = (
            update_each(BulkItem, _FINISHED_FIELDS, finished[success], where=mine)
            for success in (True, False)
        )
        update_each(BulkItem, _RESCHEDULED_FIELDS, later, where=mine)
        if ok or errors:
            BulkJob.objects.filter(pk=job_id).update(
                done=F("done") + ok + errors, ok=F("ok") + ok, errors=F("errors") + errors
            )


def _finished_state(outcome: Outcome) -> str:
    if outcome.skipped:
        return BulkItem.State.SKIPPED
    return BulkItem.State.OK if outcome.ok else BulkItem.State.ERROR


def _rescheduled_row(item: Claimed, outcome: Outcome, *, now: datetime) -> tuple:
    due = now + timedelta(seconds=outcome.retry_after)
    if item.recheck:
        # A call a dead worker may have sent stays in flight, unclaimed, until it is due: the
        # next claim then re-checks it again rather than sending it as if it never left.
        return (
            BulkItem.State.IN_FLIGHT,
            "",
            item.claimed_at,
            due,
            due,
            item.rescheduled + 1,
            outcome.error_code,
            outcome.error_info,
            item.id,
        )
    # The failed call is on record; the next claim stamps the time of the next one.
    return (
        BulkItem.State.TODO,
        "",
        None,
        None,
        due,
        item.rescheduled + 1,
        outcome.error_code,
        outcome.error_info,
        item.id,
    )


def _last_entry_ids(job_id: int, accounts: list[str]) -> dict[str, int]:
    """Each account's latest audit row in this job: the call that settled it."""
    latest: dict[str, int] = {}
    rows = AuditEntry.objects.filter(job_id=job_id, account__in=accounts).values_list(
        "account", "id"
    )
    for account, entry_id in rows.order_by("id"):
        latest[account] = entry_id
    return latest


def job_finish(*, job_id: int, now: datetime) -> bool:
    """Close the job if nothing is left in flight (or to send); True when it is over.

    Accounts put back for later keep the job open until they are done, unless it is cancelled:
    those then end with the failure they last met, the rest as not sent.
    """
    with transaction.atomic():
        job = BulkJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.state != BulkJob.State.RUNNING:
            return True
        items = BulkItem.objects.filter(job_id=job_id)
        if items.filter(state=BulkItem.State.IN_FLIGHT).exists():
            return False
        unsent = items.filter(state=BulkItem.State.TODO)
        stopped_early = unsent.exists()
        if stopped_early and not job.cancel_requested:
            return False
        unsent.filter(rescheduled__gt=0).update(
            state=BulkItem.State.ERROR, finished_at=now, not_before=None
        )
        counts = items.aggregate(
            ok=Count("id", filter=Q(state=BulkItem.State.OK)),
            # A skipped account was not changed: counted with the failures.
            errors=Count("id", filter=Q(state__in=(BulkItem.State.ERROR, BulkItem.State.SKIPPED))),
        )
        job.state = BulkJob.State.CANCELLED if stopped_early else BulkJob.State.DONE
        job.finished_at = now
        # Recounted from the items, which are the truth; the running counters should agree.
        job.ok, job.errors = counts["ok"], counts["errors"]
        job.done = job.ok + job.errors
        job.save(update_fields=["state", "finished_at", "ok", "errors", "done"])
        notify_event(
            EVENT_BULK_FINISHED,
            job=job.pk,
            operation=job.operation,
            app=job.app,
            operator=job.created_by_username,
            state=job.state,
            ok=job.ok,
            errors=job.errors,
            not_sent=job.total - job.done,
        )
    return True
