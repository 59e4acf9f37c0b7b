"""The emulator's state, in the database so every process and restart sees the same mutes."""

from django.db import models


class SandboxMute(models.Model):
    """One account's emulated global mutes, kept as absolute expiry instants that run down."""

    sdkappid = models.PositiveBigIntegerField()
    account = models.CharField(max_length=32)
    c2c_until = models.DateTimeField(
        null=True, blank=True, help_text="When the C2C mute ends; empty when off or permanent."
    )
    c2c_permanent = models.BooleanField(default=False)
    group_until = models.DateTimeField(
        null=True, blank=True, help_text="When the group mute ends; empty when off or permanent."
    )
    group_permanent = models.BooleanField(default=False)
    changed_at = models.DateTimeField(help_text="When a setnospeaking call last changed this row.")

    class Meta:
        constraints = [
            # Also the index for the only lookup: (sdkappid, account) on every get and set.
            models.UniqueConstraint(
                fields=["sdkappid", "account"], name="sandbox_mute_one_row_per_account"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} ({self.sdkappid})"


class SandboxFault(models.Model):
    """A failure queued for the next emulated call; consumed one per call, oldest first."""

    class Kind(models.TextChoices):
        ERROR = "error", "HTTP 200 with an ErrorCode"
        HTTP502 = "http502", "HTTP 502 from the gateway"
        BADJSON = "badjson", "HTTP 200 with truncated JSON"
        TIMEOUT = "timeout", "Read timeout"
        REFUSED = "refused", "Connection refused"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    code = models.IntegerField(null=True, blank=True, help_text="The ErrorCode for error faults.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.kind if self.code is None else f"{self.kind} {self.code}"


class SandboxMessage(models.Model):
    """A one-to-one message the emulator "delivered" (sendmsg), listed at /sandbox/messages/."""

    sdkappid = models.PositiveBigIntegerField()
    from_account = models.CharField(
        max_length=32, blank=True, help_text="Empty when the app admin in the URL sent it."
    )
    to_account = models.CharField(max_length=32)
    text = models.TextField()
    msg_random = models.PositiveBigIntegerField()
    delivered_at = models.DateTimeField()

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"to {self.to_account} ({self.sdkappid})"
