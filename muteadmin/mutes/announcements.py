"""Telling the team's chat of mutes: each permanent mute is a notification (muteadmin.robots)."""

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser

from muteadmin.mutes.calls import MuteCall
from muteadmin.robots.events import notify_event
from muteadmin.robots.models import EVENT_PERMANENT_MUTE


def permanent_mutes_announced(
    made: Sequence[tuple[MuteCall, Any]],
    operator: AbstractBaseUser,
    on_behalf_of: AbstractBaseUser | None,
    **facts: Any,
) -> None:
    """Queue a notification of each permanent mute in `made` that went through.

    Not called for a bulk job's changes: a job reports once, when it ends.
    """
    for result, _ in made:
        if result.error is None:
            notify_event(
                EVENT_PERMANENT_MUTE,
                account=result.account,
                operator=operator.get_username(),
                on_behalf_of=on_behalf_of.get_username() if on_behalf_of is not None else None,
                **facts,
            )
