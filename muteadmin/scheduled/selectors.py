"""What the scheduled-changes page and the account page read."""

from django.db.models import QuerySet

from muteadmin.bulk.models import BulkJob
from muteadmin.scheduled.models import ScheduledChange

RECENT = 50


def scheduled_waiting(*, account: str | None = None, app: str | None = None) -> QuerySet:
    """Changes still to be made, soonest first; one account's when `account` is given."""
    waiting = ScheduledChange.objects.filter(state=ScheduledChange.State.WAITING)
    if account is not None:
        waiting = waiting.filter(account=account, app=app)
    return waiting.order_by("run_at", "pk")


def scheduled_recent(*, limit: int = RECENT) -> list[ScheduledChange]:
    """Changes made, failed, skipped or cancelled lately, newest first."""
    finished = ScheduledChange.objects.exclude(state=ScheduledChange.State.WAITING)
    return list(finished.order_by("-finished_at", "-pk")[:limit])


def scheduled_bulk_jobs() -> QuerySet:
    """Bulk jobs waiting for their start ("start at" on the bulk page), soonest first."""
    return BulkJob.objects.filter(state=BulkJob.State.SCHEDULED).order_by("starts_at", "pk")
