"""A reminder to review an account when a mute set on it ends ("Review when this mute ends")."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Reminder(models.Model):
    """Due when the mute ends: shown on the home page of its author, or of every Lead."""

    class For(models.TextChoices):
        ME = "me", _("Remind me")
        LEADS = "leads", _("Remind the Leads")

    app = models.CharField(max_length=32, default="default")
    account = models.CharField(max_length=64)
    due_at = models.DateTimeField()
    remind = models.CharField(max_length=8, choices=For)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_username = models.CharField(max_length=150)
    # The change it follows (its audit rows share this id) and the reason given for it.
    correlation_id = models.UUIDField(null=True, blank=True)
    reason = models.TextField(blank=True)
    # When the team's chat was told it came due (muteadmin.robots), once.
    notified_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by_username = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        default_permissions = ()
        indexes = [
            # The home page's question: reminders not yet done that are due, soonest first.
            models.Index(
                fields=["due_at"], name="reminder_open", condition=models.Q(done_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"Review {self.account} at {self.due_at:%Y-%m-%d %H:%M}"
