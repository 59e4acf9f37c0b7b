"""Reminders to review an account when its mute ends: made after a change, marked done."""

import uuid
from datetime import datetime, timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from muteadmin.reminders.models import Reminder
from muteadmin.robots.events import notify_event
from muteadmin.robots.models import EVENT_REVIEW_DUE
from muteadmin.tencent.nospeaking import PERMANENT

# Reminders told to the team's chat per run of the periodic job; the next run takes the rest.
ANNOUNCE_BATCH = 100
# Who may mark a reminder for the Leads done (any Lead may review it).
LEADS_PERMISSION = "approvals.decide_muterequest"


class NothingToReview(ValueError):
    """The change leaves no mute that ends (a lift, or only permanent mutes): no reminder."""


def reminder_for_change(
    *,
    account: str,
    app: str,
    operator: AbstractBaseUser,
    remind: str,
    lengths: tuple[int | None, ...],
    reason: str = "",
    correlation_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Reminder:
    """A reminder due when the longest of the mutes the change set (`lengths`, seconds; None
    for a kind left alone) ends. Raises NothingToReview for a lift or a permanent mute."""
    if PERMANENT in lengths:
        raise NothingToReview(
            _("No reminder was set: a permanent mute never ends; schedule a lift instead.")
        )
    ending = [seconds for seconds in lengths if seconds]
    if not ending:
        raise NothingToReview(_("No reminder was set: a lift leaves no mute to review."))
    return Reminder.objects.create(
        app=app,
        account=account,
        due_at=(now or timezone.now()) + timedelta(seconds=max(ending)),
        remind=Reminder.For(remind),
        created_by=operator,
        created_by_username=operator.get_username(),
        correlation_id=correlation_id,
        reason=reason,
    )


def reminder_sentence(reminder: Reminder) -> str:
    """What the person who asked for `reminder` is told: who is reminded of what, and when."""
    words = {
        "account": reminder.account,
        "when": f"{timezone.localtime(reminder.due_at):%Y-%m-%d %H:%M:%S %Z}",
    }
    if reminder.remind == Reminder.For.ME:
        return (
            _(
                "You will be reminded on the home page to review %(account)s when the mute ends "
                "(%(when)s)."
            )
            % words
        )
    return (
        _(
            "The Leads will be reminded on the home page to review %(account)s when the mute ends "
            "(%(when)s)."
        )
        % words
    )


def reminder_done(*, reminder_id: int, user: AbstractBaseUser) -> Reminder:
    """Mark a due reminder reviewed: your own, or one for the Leads if you are one."""
    with transaction.atomic():
        reminder = Reminder.objects.select_for_update().get(pk=reminder_id)
        if not reminder_visible_to(reminder, user=user):
            raise PermissionDenied(_("This reminder is someone else's."))
        if reminder.done_at is None:
            reminder.done_at = timezone.now()
            reminder.done_by_username = user.get_username()
            reminder.save(update_fields=["done_at", "done_by_username"])
    return reminder


def reminder_visible_to(reminder: Reminder, *, user: AbstractBaseUser) -> bool:
    """Whether `user` is the one (or among those) the reminder is for."""
    if reminder.remind == Reminder.For.LEADS:
        return user.has_perm(LEADS_PERMISSION)
    return reminder.created_by_id == user.pk


def reminders_announce_due(*, now: datetime | None = None) -> list[int]:
    """Tell the chat-robot destinations that chose `review_due` of each reminder that came due
    and was not done, once each (claimed with a conditional UPDATE); their ids."""
    now = now or timezone.now()
    due = Reminder.objects.filter(
        done_at__isnull=True, notified_at__isnull=True, due_at__lte=now
    ).order_by("due_at", "pk")[:ANNOUNCE_BATCH]
    told = []
    for reminder in due:
        claimed = Reminder.objects.filter(pk=reminder.pk, notified_at__isnull=True).update(
            notified_at=now
        )
        if claimed:
            notify_event(
                EVENT_REVIEW_DUE,
                account=reminder.account,
                app=reminder.app,
                remind=reminder.remind,
                operator=reminder.created_by_username,
                reason=reminder.reason or "-",
                due_at=reminder.due_at,
            )
            told.append(reminder.pk)
    return told
