"""The audit log: one append-only row per call muteadmin makes to Tencent."""

from django.conf import settings
from django.db import models


class AuditRowLocked(Exception):
    """A completed audit row may not be changed or deleted."""


class AuditEntryQuerySet(models.QuerySet):
    """Refuses bulk changes that would touch completed rows."""

    def update(self, **kwargs):
        # Deleting a user nulls the operator link; the username copy keeps the history readable.
        unlinks_operator = kwargs.keys() == {"operator"} and kwargs["operator"] is None
        if not unlinks_operator and self.exclude(outcome=AuditEntry.Outcome.PENDING).exists():
            raise AuditRowLocked("Completed audit rows cannot be changed.")
        return super().update(**kwargs)

    update.queryset_only = True

    def delete(self):
        raise AuditRowLocked("Audit rows cannot be deleted.")

    delete.queryset_only = True


class AuditEntry(models.Model):
    """One upstream call: written as pending before the call, completed after it."""

    class Action(models.TextChoices):
        QUERY = "query", "Query"
        CHANGE = "change", "Change"

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        OK = "ok", "OK"
        ERROR = "error", "Error"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept beside the foreign key so history still names the operator after the user is deleted.
    operator_username = models.CharField(max_length=150)
    action = models.CharField(max_length=16, choices=Action)
    account = models.CharField(max_length=64)
    c2c_requested = models.BigIntegerField(null=True, blank=True)
    group_requested = models.BigIntegerField(null=True, blank=True)
    c2c_observed = models.BigIntegerField(null=True, blank=True)
    group_observed = models.BigIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome, default=Outcome.PENDING)
    error_code = models.IntegerField(null=True, blank=True)
    error_info = models.TextField(blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    request_random = models.BigIntegerField(null=True, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        ordering = ["-created_at", "-id"]
        permissions = [("view_audit_log", "Can browse the audit log")]
        indexes = [
            # The account page's history: "what happened to this account, newest first".
            models.Index(fields=["account", "-created_at"], name="audit_account_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.account} by {self.operator_username} ({self.outcome})"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            stored = type(self).objects.filter(pk=self.pk).values_list("outcome", flat=True).first()
            if stored is not None and stored != self.Outcome.PENDING:
                raise AuditRowLocked("Completed audit rows cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditRowLocked("Audit rows cannot be deleted.")

    @property
    def is_completed(self) -> bool:
        return self.outcome != self.Outcome.PENDING
