"""The reconcile's watchlist and its runs."""

import uuid

from django.db import models


class WatchedAccount(models.Model):
    """An account the reconcile checks every run, muted or not: Leads keep these at /watchlist/."""

    app = models.CharField(max_length=32)
    account = models.CharField(max_length=64)
    added_at = models.DateTimeField(auto_now_add=True)
    # A copy of the username, so the list still says who added it after the user is deleted.
    added_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["app", "account"]
        constraints = [
            models.UniqueConstraint(fields=["app", "account"], name="watched_app_account_unique")
        ]
        permissions = [("manage_watchlist", "Can add and remove watched accounts")]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.account} ({self.app})"


class ReconcileRun(models.Model):
    """One reconcile: when it ran, how far it got and what it found.

    `beat_at` moves as it works; a run still `running` long after its last beat died with its
    process, and the next run marks it `interrupted`.
    """

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"
        INTERRUPTED = "interrupted", "Interrupted"

    # Shared by every audit row of the run: its lookups and the differences they found.
    correlation_id = models.UUIDField(default=uuid.uuid4, editable=False)
    # "worker" (the periodic job) or "command" (manage.py mute_reconcile).
    trigger = models.CharField(max_length=16)
    state = models.CharField(max_length=16, choices=State, default=State.RUNNING)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    checked = models.PositiveIntegerField(default=0)
    differences = models.PositiveIntegerField(default=0)
    # Accounts whose lookup failed: not checked this run.
    failed = models.PositiveIntegerField(default=0)
    error_info = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"reconcile {self.pk} ({self.state})"
