"""A mute change to make later ("start at": mute at an event's start; "lift at": end a mute)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ScheduledChange(models.Model):
    """One change of an account's mutes at `run_at`, made by the worker for the person who asked.

    The state seen when it was scheduled (`seen_*`) guards it: if the account's mutes moved
    otherwise than by running down in between, the change is skipped, not made blindly.
    """

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped: the account changed")
        CANCELLED = "cancelled", _("Cancelled")
        # Claimed by a worker that stopped before recording how it went: never run again.
        UNKNOWN = "unknown", _("Outcome unknown")

    app = models.CharField(max_length=32, default="default")
    account = models.CharField(max_length=64)
    # None leaves that mute alone; 0 lifts it.
    c2c_seconds = models.BigIntegerField(null=True, blank=True)
    group_seconds = models.BigIntegerField(null=True, blank=True)
    reason = models.TextField()
    rule = models.CharField(max_length=32, blank=True)
    run_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept beside the foreign key so the list still names them after the user is deleted.
    created_by_username = models.CharField(max_length=150)
    # A change above its scheduler's limit waits as a mute request; the Lead who approved it,
    # whose limit it then runs within (on the scheduler's behalf). Blank: within their own.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_by_username = models.CharField(max_length=150, blank=True, default="")
    seen_c2c = models.BigIntegerField()
    seen_group = models.BigIntegerField()
    seen_at = models.DateTimeField()
    # Ties the scheduling, the run and a cancellation together in the audit log.
    correlation_id = models.UUIDField(default=uuid.uuid4, editable=False)
    state = models.CharField(max_length=16, choices=State, default=State.WAITING)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # What happened, as a sentence (an error, why it was skipped, who cancelled it).
    outcome_message = models.TextField(blank=True)
    cancelled_by_username = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["run_at", "pk"]
        default_permissions = ()
        # Scheduling needs mutes.change_mute, as a change does; cancelling someone else's, this.
        permissions = [("cancel_any_scheduled", "Can cancel anyone's scheduled change")]
        indexes = [
            # The worker's question: the waiting changes whose time has come, oldest first.
            models.Index(fields=["state", "run_at"], name="scheduled_due"),
            # The account's timeline and page: its scheduled changes.
            models.Index(fields=["app", "account", "run_at"], name="scheduled_account"),
        ]

    def __str__(self) -> str:
        return f"{self.account} at {self.run_at:%Y-%m-%d %H:%M} ({self.state})"

    @property
    def is_lift(self) -> bool:
        """Whether every mute it sets is a lift ("lift at"), rather than a mute ("start at")."""
        return all(seconds in (None, 0) for seconds in (self.c2c_seconds, self.group_seconds))
