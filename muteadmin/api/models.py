"""API tokens, and the answers kept for POSTs sent with an Idempotency-Key."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy


class ApiToken(models.Model):
    """A bearer token for /api/v1/: what it may do (scopes), under which role's limits, until when.

    Only the SHA-256 of the token is kept; `key_id`, the part after the prefix, finds the row. The
    token acts through `user`, an account of its own named `token:<name>` with no password and
    the role's group, so every audit row, limit and request names the token.
    """

    class Scope(models.TextChoices):
        READ = "read", gettext_lazy("Look up accounts")
        CHANGE = "change", gettext_lazy("Change mutes")
        BULK = "bulk", gettext_lazy("Bulk jobs")
        AUDIT = "audit", gettext_lazy("Audit log and mute report")

    name = models.CharField(max_length=64, unique=True)
    key_id = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    role = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="+")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_token"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by_username = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by_username = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class IdempotentAnswer(models.Model):
    """The first answer to a POST sent with an Idempotency-Key, replayed to its retries for 24 h.

    The unique (token, key) pair is what lets only one of two concurrent duplicates run: the
    other finds the row taken. `status` stays null while the first request is still running.
    """

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.JSONField(null=True, blank=True)
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="api_idempotency_key_once"),
        ]
        # Answers past their 24 hours are deleted by age, oldest first.
        indexes = [models.Index(fields=["created_at"], name="api_idempotency_age")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status or 'running'})"
