"""One-time links a new person sets their password with; the team permission lives here too."""

from django.conf import settings
from django.db import models


class Invitation(models.Model):
    """A set-password link given to one person, usable once within INVITATION_HOURS.

    Only a hash of the link's token is kept, so the table alone opens no account.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # SHA-256 of the token, hex: looked up when a link is opened.
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    created_by_username = models.CharField(max_length=150, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        permissions = [
            ("manage_team", "Can add staff, change their roles, deactivate them, reset 2FA"),
        ]

    def __str__(self) -> str:
        return f"set-password link for user {self.user_id} from {self.created_at:%Y-%m-%d %H:%M}"
