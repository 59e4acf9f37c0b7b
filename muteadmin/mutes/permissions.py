"""Who may change mutes: the one place the account page, the services and bulk jobs ask."""

from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied

from muteadmin.tencent.nospeaking import PERMANENT


@dataclass(frozen=True)
class MutePermissions:
    """What a user may do to mutes beyond looking them up."""

    change: bool
    mute_permanently: bool


def mute_permissions(user: AbstractBaseUser) -> MutePermissions:
    """The user's mute permissions, for forms that offer only what the user may do."""
    change = user.has_perm("mutes.change_mute")
    return MutePermissions(
        change=change, mute_permanently=change and user.has_perm("mutes.mute_permanently")
    )


def mute_change_permitted(
    *, operator: AbstractBaseUser, c2c_seconds: int | None, group_seconds: int | None
) -> None:
    """Raise PermissionDenied unless `operator` may make this change (None leaves a mute alone)."""
    allowed = mute_permissions(operator)
    if not allowed.change:
        raise PermissionDenied("You may not change mutes.")
    if PERMANENT in (c2c_seconds, group_seconds) and not allowed.mute_permanently:
        raise PermissionDenied("You may not mute accounts permanently.")
