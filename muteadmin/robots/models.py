"""Chat-robot destinations the team is told of events through, and each message's delivery."""

from django.db import models
from django.utils.translation import gettext_lazy

# What a destination may be told of; each destination picks its own.
EVENT_PERMANENT_MUTE = "permanent_mute"
EVENT_REQUEST_WAITING = "request_waiting"
EVENT_BULK_FINISHED = "bulk_finished"
EVENT_AUDIT_VERIFY_FAILED = "audit_verify_failed"
EVENT_LIMITER_SATURATED = "limiter_saturated"
EVENT_CHECKPOINT_WRITTEN = "checkpoint_written"
# An account's mutes found otherwise than muteadmin expected: by the reconcile, or by a
# scheduled change that was skipped for it.
EVENT_DRIFT = "drift"
# A "review when this mute ends" reminder came due (muteadmin.reminders).
EVENT_REVIEW_DUE = "review_due"
# Sent by the page's "Send test" button only; never chosen.
EVENT_TEST = "test"

EVENT_CHOICES = [
    (EVENT_PERMANENT_MUTE, gettext_lazy("Permanent mute")),
    (EVENT_REQUEST_WAITING, gettext_lazy("Request awaiting approval")),
    (EVENT_BULK_FINISHED, gettext_lazy("Bulk job finished or failed")),
    (EVENT_AUDIT_VERIFY_FAILED, gettext_lazy("Audit verification failed")),
    (EVENT_LIMITER_SATURATED, gettext_lazy("Rate limiter saturated for over a minute")),
    (EVENT_CHECKPOINT_WRITTEN, gettext_lazy("Chain checkpoint written")),
    (
        EVENT_DRIFT,
        gettext_lazy("Mutes changed outside muteadmin (a scheduled change skipped for it too)"),
    ),
    (EVENT_REVIEW_DUE, gettext_lazy("A review reminder came due")),
]
EVENTS = tuple(code for code, _ in EVENT_CHOICES)


class Destination(models.Model):
    """A chat robot or webhook, its secrets, the events it is told of and how it is faring.

    `url` and `secret` are kept as given because every message is signed or addressed with
    them; they are never shown back in full (muteadmin/robots/masking.py).
    """

    class Kind(models.TextChoices):
        WECOM = "wecom", gettext_lazy("WeCom group robot")
        DINGTALK = "dingtalk", gettext_lazy("DingTalk robot")
        FEISHU = "feishu", gettext_lazy("Feishu / Lark custom bot")
        SLACK = "slack", gettext_lazy("Slack incoming webhook")
        WEBHOOK = "webhook", gettext_lazy("Webhook (signed JSON)")

    class Language(models.TextChoices):
        ENGLISH = "en", gettext_lazy("English")
        SIMPLIFIED_CHINESE = "zh-hans", gettext_lazy("Simplified Chinese")

    name = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=Kind)
    url = models.CharField(max_length=2000)
    secret = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=8, choices=Language, default=Language.ENGLISH)
    events = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # Since when every attempt has failed (None after a success): a day of it pauses the
    # destination, which then sends nothing until a Lead resumes it.
    failing_since = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        default_permissions = ()
        permissions = [("manage_notifications", "Can configure chat-robot notifications")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def paused(self) -> bool:
        return self.paused_at is not None


class Delivery(models.Model):
    """One message to one destination: waiting, sent, or failed after its attempts."""

    class Status(models.TextChoices):
        QUEUED = "queued", gettext_lazy("Queued")
        SENDING = "sending", gettext_lazy("Sending")
        RETRYING = "retrying", gettext_lazy("Waiting to retry")
        SENT = "sent", gettext_lazy("Sent")
        FAILED = "failed", gettext_lazy("Failed")
        SKIPPED = "skipped", gettext_lazy("Not sent (paused)")

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=32)
    # What the message says, as plain values (no secrets); written in the destination's
    # language when it is sent.
    facts = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        default_permissions = ()
        indexes = [
            # The page's delivery log: one destination's latest deliveries.
            models.Index(fields=["destination", "-id"], name="robots_delivery_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.destination_id}: {self.status}"
