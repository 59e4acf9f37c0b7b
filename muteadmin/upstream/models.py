"""How long callers have had to wait for the rate limiter, kept where every process sees it."""

from django.db import models


class LimiterPressure(models.Model):
    """One (app, API) key's current stretch of waiting for a slot.

    `since` is when callers began to wait without a quiet gap; `last_wait_at` the latest wait
    recorded. `notified_since` is the `since` of the stretch a notification was sent for.
    """

    key = models.CharField(max_length=200, unique=True)
    since = models.DateTimeField()
    last_wait_at = models.DateTimeField()
    notified_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.key}: waiting since {self.since:%Y-%m-%d %H:%M:%S}"
