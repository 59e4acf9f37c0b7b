"""One-time set-password links: issued to a person by a Lead, used once within INVITATION_HOURS.

The token travels only in the link; the database keeps its SHA-256, so neither the table, the
audit log nor the logs can open an account.
"""

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from muteadmin.team.models import Invitation

INVITATION_HOURS = 24
TOKEN_BYTES = 32


class LinkState(enum.StrEnum):
    VALID = "valid"
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


class LinkNotValid(Exception):
    """The link cannot set a password (anymore); `state` says why."""

    def __init__(self, state: LinkState) -> None:
        super().__init__(f"The set-password link is {state}.")
        self.state = state


@dataclass(frozen=True)
class LinkCheck:
    state: LinkState
    invitation: Invitation | None = None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_issue(*, user: AbstractBaseUser, issued_by: str) -> str:
    """A new link's token for `user`; links issued to them before and not used stop working."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        Invitation.objects.filter(user=user, used_at__isnull=True).delete()
        Invitation.objects.create(
            user=user,
            token_hash=_token_hash(token),
            created_at=timezone.now(),
            created_by_username=issued_by,
        )
    return token


def invitation_check(*, token: str, lock: bool = False) -> LinkCheck:
    """Whether `token` can still set a password, and the invitation it belongs to."""
    found = Invitation.objects.select_related("user").filter(token_hash=_token_hash(token))
    invitation = (found.select_for_update() if lock else found).first()
    if invitation is None or not invitation.user.is_active:
        return LinkCheck(LinkState.UNKNOWN)
    if invitation.used_at is not None:
        return LinkCheck(LinkState.USED, invitation)
    if timezone.now() >= invitation.created_at + timedelta(hours=INVITATION_HOURS):
        return LinkCheck(LinkState.EXPIRED, invitation)
    return LinkCheck(LinkState.VALID, invitation)


def invitation_redeem(*, token: str, password: str) -> AbstractBaseUser:
    """Set the password the link is for and spend the link; LinkNotValid if it cannot."""
    with transaction.atomic():
        check = invitation_check(token=token, lock=True)
        if check.state != LinkState.VALID:
            raise LinkNotValid(check.state)
        invitation = check.invitation
        user = invitation.user
        user.set_password(password)
        user.save(update_fields=["password"])
        invitation.used_at = timezone.now()
        invitation.save(update_fields=["used_at"])
    return user
