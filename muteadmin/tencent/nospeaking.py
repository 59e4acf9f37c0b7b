"""Typed wrappers for the global mute APIs: getnospeaking and setnospeaking."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from muteadmin.tencent.accounts import validate_account
from muteadmin.tencent.apis import GET_NOSPEAKING, SET_NOSPEAKING
from muteadmin.tencent.client import TencentClient
from muteadmin.tencent.errors import HTTP_OK, TencentUpstreamError

PERMANENT = 0xFFFFFFFF  # a mute time meaning "forever", in requests and in answers
C2C_FIELD = "C2CmsgNospeakingTime"
GROUP_FIELD = "GroupmsgNospeakingTime"


@dataclass(frozen=True)
class MuteStatus:
    """An account's global mutes as Tencent reported them: seconds left, 0 or PERMANENT."""

    account: str
    c2c_seconds: int
    group_seconds: int
    observed_at: datetime
    random: int
    attempts: int = 1

    @property
    def c2c_permanent(self) -> bool:
        return self.c2c_seconds == PERMANENT

    @property
    def group_permanent(self) -> bool:
        return self.group_seconds == PERMANENT


@dataclass(frozen=True)
class MuteChange:
    """A mute change Tencent accepted; None means that mute was left as it was."""

    account: str
    c2c_seconds: int | None
    group_seconds: int | None
    observed_at: datetime
    random: int
    attempts: int = 1


def validate_seconds(name: str, value: int | None) -> None:
    """Raise ValueError unless `value` is None or a mute time Tencent accepts."""
    if value is not None and (type(value) is not int or not 0 <= value <= PERMANENT):
        raise ValueError(f"{name} must be an integer from 0 to {PERMANENT} (PERMANENT).")


def nospeaking_get(
    client: TencentClient, account: str, *, deadline: float | None = None
) -> MuteStatus:
    """Return the account's C2C and group mutes (seconds left, 0 or PERMANENT).

    `deadline` caps this call's retries, in seconds, below the client's own deadline.
    """
    validate_account(account)
    reply = client.call(GET_NOSPEAKING, {"Get_Account": account}, deadline=deadline)
    return MuteStatus(
        account=account,
        c2c_seconds=_seconds_answered(reply.payload, C2C_FIELD, reply.random, reply.attempts),
        group_seconds=_seconds_answered(reply.payload, GROUP_FIELD, reply.random, reply.attempts),
        observed_at=reply.received_at,
        random=reply.random,
        attempts=reply.attempts,
    )


def nospeaking_set(
    client: TencentClient,
    account: str,
    *,
    c2c: int | None = None,
    group: int | None = None,
    deadline: float | None = None,
) -> MuteChange:
    """Set the given mutes (seconds from now, 0 lifts, PERMANENT); a None one is not sent."""
    validate_account(account)
    validate_seconds("c2c", c2c)
    validate_seconds("group", group)
    if c2c is None and group is None:
        raise ValueError("Give c2c, group or both.")
    body: dict[str, Any] = {"Set_Account": account}
    # Sending 0 for a mute the moderator did not touch would lift it, so omit it instead.
    if c2c is not None:
        body[C2C_FIELD] = c2c
    if group is not None:
        body[GROUP_FIELD] = group
    reply = client.call(SET_NOSPEAKING, body, deadline=deadline)
    return MuteChange(
        account=account,
        c2c_seconds=c2c,
        group_seconds=group,
        observed_at=reply.received_at,
        random=reply.random,
        attempts=reply.attempts,
    )


def _seconds_answered(payload: dict[str, Any], field: str, random: int, attempts: int) -> int:
    value = payload.get(field)
    if type(value) is not int or not 0 <= value <= PERMANENT:
        raise TencentUpstreamError(
            f"Tencent answered {field}={value!r:.40}, not an integer from 0 to {PERMANENT}",
            http_status=HTTP_OK,
            random=random,
            attempts=attempts,
        )
    return value
