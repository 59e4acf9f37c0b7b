"""The emulator's sendmsg: Tencent's checks on a one-to-one message, then a delivery to record.

Checked as Tencent documents them ("Sending One-to-One Messages to One User"): To_Account
(90003), MsgRandom an unsigned 32-bit integer (90005), MsgBody a non-empty array (90007) of
elements Tencent knows (90002), From_Account when given (90008), SyncOtherMachine 1 or 2
(90031), MsgLifeTime at most 7 days (90026) and a MsgBody of at most 12 KB (93000).

Where the documentation is silent, or the emulator cannot know, it chooses and says so:
- The emulator has no account list, so every valid To_Account exists; queue an `error 90012`
  fault to stand in for an account never imported.
- Only TIMTextElem is emulated; other element types Tencent knows are accepted and recorded
  by type. A TIMTextElem with an empty Text answers 90002.
- MsgKey is "<MsgSeq>_<MsgRandom>_<MsgTime>", the shape of Tencent's keys.
"""

import json
from datetime import datetime
from typing import Any, Protocol

from muteadmin.sandbox.refusals import ErrorCode, Refusal, account_valid

UINT32_MAX = 0xFFFFFFFF
MSG_BODY_MAX_BYTES = 12 * 1024
MSG_LIFETIME_MAX = 7 * 24 * 3600
SYNC_CHOICES = (1, 2)
TEXT_ELEM = "TIMTextElem"
KNOWN_ELEMS = frozenset(
    {
        TEXT_ELEM,
        "TIMLocationElem",
        "TIMFaceElem",
        "TIMCustomElem",
        "TIMSoundElem",
        "TIMImageElem",
        "TIMFileElem",
        "TIMVideoFileElem",
    }
)


class MessageStore(Protocol):
    """Where the emulator records what it delivered; answers the message's MsgSeq."""

    def message_deliver(
        self,
        *,
        sdkappid: int,
        from_account: str,
        to_account: str,
        text: str,
        msg_random: int,
        now: datetime,
    ) -> int: ...


def message_answer(
    *, document: dict[str, Any], sdkappid: int, now: datetime, store: MessageStore
) -> dict[str, Any]:
    """Check a sendmsg body as Tencent does, record the delivery, answer MsgTime and MsgKey."""
    to_account = document.get("To_Account")
    if not account_valid(to_account):
        raise Refusal(ErrorCode.TO_ACCOUNT_INVALID, "To_Account is missing or not a valid account.")
    from_account = document.get("From_Account", "")
    if "From_Account" in document and not account_valid(from_account):
        raise Refusal(ErrorCode.FROM_ACCOUNT_INVALID, "From_Account is not a valid account.")
    msg_random = document.get("MsgRandom")
    if not _uint32(msg_random):
        raise Refusal(
            ErrorCode.MSG_RANDOM_INVALID, "MsgRandom is missing or not a 32-bit unsigned integer."
        )
    if "SyncOtherMachine" in document and document["SyncOtherMachine"] not in SYNC_CHOICES:
        raise Refusal(ErrorCode.SYNC_OTHER_MACHINE_INVALID, "SyncOtherMachine must be 1 or 2.")
    if "MsgLifeTime" in document and not _lifetime_valid(document["MsgLifeTime"]):
        raise Refusal(
            ErrorCode.MSG_LIFETIME_INVALID,
            f"MsgLifeTime must be an integer from 0 to {MSG_LIFETIME_MAX} seconds (7 days).",
        )
    text = _body_text(document.get("MsgBody"))
    seq = store.message_deliver(
        sdkappid=sdkappid,
        from_account=from_account,
        to_account=to_account,
        text=text,
        msg_random=msg_random,
        now=now,
    )
    msg_time = int(now.timestamp())
    return {"MsgTime": msg_time, "MsgKey": f"{seq}_{msg_random}_{msg_time}"}


def _uint32(value: object) -> bool:
    return type(value) is int and 0 <= value <= UINT32_MAX


def _lifetime_valid(value: object) -> bool:
    return type(value) is int and 0 <= value <= MSG_LIFETIME_MAX


def _body_text(body: object) -> str:
    """The message's text as delivered (other elements by their type), after Tencent's checks."""
    if not isinstance(body, list) or not body:
        raise Refusal(ErrorCode.MSG_BODY_NOT_ARRAY, "MsgBody must be a non-empty array.")
    if len(json.dumps(body, ensure_ascii=False).encode()) > MSG_BODY_MAX_BYTES:
        raise Refusal(ErrorCode.MSG_TOO_LONG, "The message body is over 12 KB.")
    parts = []
    for element in body:
        if not isinstance(element, dict) or element.get("MsgType") not in KNOWN_ELEMS:
            raise Refusal(ErrorCode.MSG_BODY_INVALID, "MsgBody holds an unknown element.")
        content = element.get("MsgContent")
        if not isinstance(content, dict):
            raise Refusal(ErrorCode.MSG_BODY_INVALID, "Each element needs a MsgContent object.")
        if element["MsgType"] != TEXT_ELEM:
            parts.append(f"[{element['MsgType']}]")
            continue
        text = content.get("Text")
        if not isinstance(text, str) or not text:
            raise Refusal(ErrorCode.MSG_BODY_INVALID, "A TIMTextElem needs a non-empty Text.")
        parts.append(text)
    return "".join(parts)
