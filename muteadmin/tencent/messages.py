"""Typed wrapper for sendmsg: a one-to-one text message from the app's admin account."""

import json
import random as random_module
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from muteadmin.tencent.accounts import validate_account
from muteadmin.tencent.apis import SEND_MSG
from muteadmin.tencent.client import TencentClient

MSG_RANDOM_LIMIT = 2**32  # MsgRandom is an unsigned 32-bit integer
# Tencent refuses a request whose message body is over 12 KB (ErrorCode 93000).
MSG_BODY_MAX_BYTES = 12 * 1024
SYNC_TO_SENDER = 1
NO_SYNC_TO_SENDER = 2  # the admin account has no devices to copy the message to
TEXT_ELEM = "TIMTextElem"


@dataclass(frozen=True)
class SentMessage:
    """A message Tencent accepted: its MsgRandom, MsgTime and MsgKey, and the call's `random`."""

    account: str
    text: str
    msg_random: int
    msg_time: int | None
    msg_key: str
    observed_at: datetime
    random: int
    attempts: int = 1


def text_body(text: str) -> list[dict[str, Any]]:
    """The MsgBody of a plain text message."""
    return [{"MsgType": TEXT_ELEM, "MsgContent": {"Text": text}}]


def validate_text(text: str) -> None:
    """Raise ValueError unless `text` is a message Tencent accepts: not blank, at most 12 KB."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("The message is empty; write the text to send.")
    size = len(json.dumps(text_body(text), ensure_ascii=False).encode())
    if size > MSG_BODY_MAX_BYTES:
        raise ValueError(
            f"The message is too long for Tencent ({size} bytes of at most {MSG_BODY_MAX_BYTES}); "
            "shorten it."
        )


def message_send(
    client: TencentClient,
    account: str,
    *,
    text: str,
    deadline: float | None = None,
    rng: random_module.Random | None = None,
) -> SentMessage:
    """Send `text` to `account` as a one-to-one message from the app admin (`identifier`).

    One MsgRandom is drawn for the message and kept across the client's retries, so Tencent,
    which drops a repeat of the same sender, MsgRandom and content, never delivers it twice.
    """
    validate_account(account)
    validate_text(text)
    msg_random = (rng or random_module.SystemRandom()).randrange(MSG_RANDOM_LIMIT)
    body = {
        "SyncOtherMachine": NO_SYNC_TO_SENDER,
        "From_Account": client.identifier,
        "To_Account": account,
        "MsgRandom": msg_random,
        "MsgBody": text_body(text),
    }
    reply = client.call(SEND_MSG, body, deadline=deadline)
    # ErrorCode 0 says the message was accepted: an odd MsgTime or MsgKey does not undo that.
    msg_time = reply.payload.get("MsgTime")
    msg_key = reply.payload.get("MsgKey")
    return SentMessage(
        account=account,
        text=text,
        msg_random=msg_random,
        msg_time=msg_time if type(msg_time) is int else None,
        msg_key=msg_key if isinstance(msg_key, str) else "",
        observed_at=reply.received_at,
        random=reply.random,
        attempts=reply.attempts,
    )
