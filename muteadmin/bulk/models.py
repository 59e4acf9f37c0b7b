"""Bulk jobs: one row per job, one per account in it, so a job survives any worker's death."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class BulkJob(models.Model):
    """A lookup, set or lift over many accounts, run in the background by db_worker processes."""

    class Operation(models.TextChoices):
        LOOKUP = "lookup", _("Look up")
        SET = "set", _("Set mutes")
        LIFT = "lift", _("Lift mutes")

    class State(models.TextChoices):
        # Waiting for `starts_at`; the worker queues it then (muteadmin/bulk/schedule.py).
        SCHEDULED = "scheduled", pgettext_lazy("bulk job state", "Scheduled")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    operation = models.CharField(max_length=16, choices=Operation)
    # The Chat app (muteadmin.upstream.registry) whose accounts the job calls for.
    app = models.CharField(max_length=32, default="default")
    # For "set": the new lengths in seconds (None leaves that mute alone); "lift" stores 0 and 0.
    c2c_seconds = models.PositiveBigIntegerField(null=True, blank=True)
    group_seconds = models.PositiveBigIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)
    # The code of the policy rule the change is made under (muteadmin.rules), "" for none.
    rule = models.CharField(max_length=32, blank=True, default="")
    # The language of the notice each account is sent after its change; blank: no notice.
    notice_language = models.CharField(max_length=8, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept beside the foreign key so the job still names its author after the user is deleted.
    created_by_username = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    # "Start at": a job that waits for this moment before it sends anything; null starts at once.
    starts_at = models.DateTimeField(null=True, blank=True)
    # A job started later: the audit log's last row when it was scheduled. An account with a
    # change or a drift recorded after it is skipped, not overwritten (bulk/stale_guard.py).
    seen_audit_id = models.PositiveBigIntegerField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)
    # done = ok + errors; accounts never sent (a cancelled job's rest) are total - done.
    done = models.PositiveIntegerField(default=0)
    ok = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Every worker on the job touches this every few seconds; when it goes stale the job is
    # picked up again.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    # Who asked to stop the job, and when (the first to ask; the cancel's audit row says so too).
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cancelled_by_username = models.CharField(max_length=150, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The ids of the tasks queued for this job, so recovery can tell "waiting in line" from "lost".
    task_ids = models.JSONField(default=list, blank=True)
    # The finished job whose failed or not-sent accounts this one takes up again.
    follow_up_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
    )

    class Meta:
        ordering = ["-id"]
        default_permissions = ()
        permissions = [("run_bulk", "Can run bulk lookups and mutes")]
        indexes = [
            # Recovery's "unfinished jobs whose heartbeat went stale".
            models.Index(fields=["state", "heartbeat_at"], name="bulkjob_state_heartbeat"),
        ]

    def __str__(self) -> str:
        return f"bulk {self.operation} #{self.pk} ({self.state}, {self.done}/{self.total})"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.CANCELLED)

    @property
    def not_sent(self) -> int:
        return self.total - self.done


class BulkItem(models.Model):
    """One account of a job: claimed (committed) before its call, finished after it."""

    class State(models.TextChoices):
        TODO = "todo", _("Not sent")
        IN_FLIGHT = "in_flight", _("In flight")
        OK = "ok", _("OK")
        ERROR = "error", _("Error")
        # A job started later found the account changed since it was scheduled: not sent.
        SKIPPED = "skipped", _("Skipped: the account changed")

    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="items")
    # The account's place in the deduplicated list, from 1: results are shown in this order.
    position = models.PositiveIntegerField()
    account = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State, default=State.TODO)
    # Which worker holds the claim ("host:pid:task"), and until when unless it renews it.
    claimed_by = models.CharField(max_length=100, blank=True)
    # The first claim, kept when a dead worker's claim is taken over: the earliest the call
    # could have been sent, which bounds how far a mute it set has run down since.
    claimed_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # A call that failed with something a later try may not meet puts the account back for
    # later: it is not claimed before `not_before`, and gives up after a few reschedules.
    not_before = models.DateTimeField(null=True, blank=True)
    rescheduled = models.PositiveSmallIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_info = models.TextField(blank=True)
    c2c_observed = models.BigIntegerField(null=True, blank=True)
    group_observed = models.BigIntegerField(null=True, blank=True)
    audit_entry = models.ForeignKey(
        "audit.AuditEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )

    class Meta:
        ordering = ["job", "position"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["job", "account"], name="bulkitem_job_account"),
            # Also serves the results table and CSV: a job's items in order, from a cursor.
            models.UniqueConstraint(fields=["job", "position"], name="bulkitem_job_position"),
        ]
        indexes = [
            # Claiming: the next unsent items in order, and in-flight ones whose lease ran out.
            models.Index(fields=["job", "state", "position"], name="bulkitem_claim"),
        ]

    def __str__(self) -> str:
        return f"{self.account} in job #{self.job_id} ({self.state})"

    @property
    def outcome(self) -> str:
        """ok, error, skipped, or not_sent for an account the job never got to (cancelled)."""
        if self.state in (self.State.OK, self.State.ERROR, self.State.SKIPPED):
            return self.state
        return "not_sent"
