"""Mute requests: a change above its requester's limit, waiting for another Lead's decision."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MuteRequest(models.Model):
    """One account's change (the account page's fields and reason), filed for approval.

    Pending until a Lead other than the requester approves or rejects it, or until
    `expires_at` passes. Approving carries the change out as the approver on the
    requester's behalf; every step is an audit row sharing `correlation_id`.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved and applied")
        FAILED = "failed", _("Approved, but the change failed")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")

    app = models.CharField(max_length=32)
    account = models.CharField(max_length=64)
    # As a change takes them: None leaves that mute alone, 0 lifts it.
    c2c_seconds = models.BigIntegerField(null=True, blank=True)
    group_seconds = models.BigIntegerField(null=True, blank=True)
    reason = models.TextField()
    # The code of the policy rule the change is asked under (muteadmin.rules), "" for none.
    rule = models.CharField(max_length=32, blank=True, default="")
    # The language of the notice the account is sent once the change is made ("": no notice).
    notice_language = models.CharField(max_length=8, blank=True, default="")
    # A scheduled change (muteadmin.scheduled): approving it schedules it for this moment, or
    # for the worker's next pass once the moment has passed. Null: the change is made at once.
    run_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept beside the foreign key, as the audit log does, so a deleted user is still named.
    requested_by_username = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by_username = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # A rejection's reason.
    decision_reason = models.TextField(blank=True)
    # What carrying out an approved request gave: Tencent's refusal, when it failed.
    outcome_message = models.TextField(blank=True)
    correlation_id = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("decide_muterequest", "Can approve and reject mute requests")]
        constraints = [
            # One request at a time waits for each account, so two cannot be approved at odds.
            models.UniqueConstraint(
                fields=["app", "account"],
                condition=models.Q(status="pending"),
                name="muterequest_one_pending_per_account",
            ),
        ]
        indexes = [
            # The requests page and the navigation's count: pending requests, oldest first;
            # and expiry, which looks for pending requests past their end.
            models.Index(fields=["status", "expires_at"], name="muterequest_status_expiry"),
            # The account page: the account's request waiting for approval.
            models.Index(fields=["app", "account", "status"], name="muterequest_account"),
        ]

    def __str__(self) -> str:
        return f"request #{self.pk} for {self.account} by {self.requested_by_username}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING
