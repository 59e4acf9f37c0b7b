"""The home page's reviews due."""

from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Q
from django.utils import timezone

from muteadmin.reminders.models import Reminder
from muteadmin.reminders.services import LEADS_PERMISSION

DUE_LIST_SIZE = 10


def reminders_due(
    *, user: AbstractBaseUser, app: str, now: datetime | None = None
) -> list[Reminder]:
    """Reminders in `app` due by now and not done, for `user` (theirs, and the Leads' if a
    Lead), soonest first."""
    mine = Q(remind=Reminder.For.ME, created_by=user)
    if user.has_perm(LEADS_PERMISSION):
        mine |= Q(remind=Reminder.For.LEADS)
    due = Reminder.objects.filter(
        mine, app=app, done_at__isnull=True, due_at__lte=now or timezone.now()
    )
    return list(due.order_by("due_at", "pk")[:DUE_LIST_SIZE])
