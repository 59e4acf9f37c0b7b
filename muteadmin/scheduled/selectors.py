"""What the scheduled-changes page and the account page read."""

from django.db.models import QuerySet

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
