"""Failed sign-ins, counted per account and per client address to throttle password guessing."""

from django.db import models


class LoginFailure(models.Model):
    """One failed sign-in: when, for which account name and from which address.

    Kept in the database so every worker process counts the same failures; rows older than the
    lock-out window are pruned as new ones are written.
    """

    at = models.DateTimeField()
    # The username as typed, case-folded and cut to the model's length (see throttle.account_key).
    account = models.CharField(max_length=150)
    # The client address; an IPv6 address stands for its /64 network (see throttle.address_key).
    address = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            # "The latest failures for this account", read before every sign-in attempt.
            models.Index(fields=["account", "-at"], name="signin_failure_account"),
            # "The latest failures from this address", read before every sign-in attempt.
            models.Index(fields=["address", "-at"], name="signin_failure_address"),
            # Pruning rows older than the window.
            models.Index(fields=["at"], name="signin_failure_at"),
        ]

    def __str__(self) -> str:
        return f"{self.account} from {self.address or 'an unknown address'} at {self.at:%H:%M:%S}"
