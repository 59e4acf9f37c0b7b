"""The emulator's core: Tencent's global-mute REST calls answered from HTTP-shaped input.

Both the in-process transport adapter and the HTTP view served by `tim_emulator` feed requests
through `protocol_handle`, so the two can never drift apart. Mute state comes from a `MuteStore`
(the database in production, anything with the two methods in tests); `sendmsg` (messaging.py)
hands what it delivers to the store's `message_deliver`.

Where Tencent's documentation is silent, this module chooses and says so:
- `getnospeaking` for an account never muted answers 0/0; the real service may answer 70107
  ("account not imported") instead, since the emulator has no account list.
- A numeric SDKAppID other than the emulated app's answers 70020 (unknown in this data centre),
  which is what a wrong region domain gives; a non-numeric one answers 60006 (SDKAppID invalid).
- A missing `identifier` answers 60004 (account error in URL); a valid UserSig for an account
  that is not the app admin answers 60010 (needs App admin permission).
- Above the rate cap the answer is 60007, counted per SDKAppID and command over a sliding
  one-second window of accepted calls.
- Remaining seconds are rounded up: a mute reads 0 only once it has really run out.
- Any method but POST answers HTTP 405 with a 60008 envelope (malformed HTTP request).
"""

import hmac
import json
import threading
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any, Protocol

from muteadmin.sandbox.messaging import message_answer
from muteadmin.sandbox.refusals import ErrorCode, Refusal, account_valid
from muteadmin.tencent.apis import GET_NOSPEAKING, SEND_MSG, SET_NOSPEAKING
from muteadmin.tencent.nospeaking import PERMANENT
from muteadmin.tencent.usersig import UserSigFormatError, usersig_decode, usersig_hmac

UINT32_MAX = 0xFFFFFFFF
RATE_LIMIT_PER_SECOND = GET_NOSPEAKING.cap_per_second
RATE_WINDOW = timedelta(seconds=1)
USERSIG_VERSION = "2.0"
CONTENT_TYPE_JSON = "application/json"
CONTENT_TYPE_HTML = "text/html; charset=utf-8"

_SECOND = timedelta(seconds=1)
# Longest decimal text worth parsing for a 32-bit value (SDKAppID, random); longer is malformed.
_UINT_MAX_DIGITS = 20


class Credentials(Protocol):
    """The emulated app: its SDKAppID, the key UserSigs are checked against, its admin account."""

    @property
    def sdkappid(self) -> int: ...

    @property
    def secret_key(self) -> str: ...

    @property
    def identifier(self) -> str: ...


@dataclass(frozen=True)
class MuteState:
    """One mute (C2C or group): off, on until an instant, or permanent."""

    until: datetime | None = None
    permanent: bool = False

    def remaining(self, now: datetime) -> int:
        """Seconds still to run at `now`, as getnospeaking reports them (PERMANENT if permanent)."""
        if self.permanent:
            return PERMANENT
        if self.until is None or self.until <= now:
            return 0
        # Whole seconds, rounded up, in exact timedelta arithmetic (no float drift).
        return -((now - self.until) // _SECOND)


MUTE_OFF = MuteState()


@dataclass(frozen=True)
class AccountMutes:
    """Both mutes of one account."""

    c2c: MuteState = MUTE_OFF
    group: MuteState = MUTE_OFF


class MuteStore(Protocol):
    """Where the emulator keeps mutes; writes must leave a mute passed as None untouched."""

    def mutes_read(self, *, sdkappid: int, account: str) -> AccountMutes: ...

    def mutes_write(
        self,
        *,
        sdkappid: int,
        account: str,
        c2c: MuteState | None,
        group: MuteState | None,
        now: datetime,
    ) -> None: ...


class RateLimiter:
    """Sliding-window count of accepted calls per key (SDKAppID, command); safe across threads."""

    def __init__(self, *, limit: int = RATE_LIMIT_PER_SECOND, window: timedelta = RATE_WINDOW):
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._calls: dict[Hashable, deque[datetime]] = {}

    def admit(self, key: Hashable, now: datetime) -> bool:
        """Record a call at `now` and return True, or return False if the window is full."""
        with self._lock:
            calls = self._calls.setdefault(key, deque())
            horizon = now - self.window
            while calls and calls[0] <= horizon:
                calls.popleft()
            if len(calls) >= self.limit:
                return False
            calls.append(now)
            return True

    def clear(self) -> None:
        """Forget every recorded call."""
        with self._lock:
            self._calls.clear()


def protocol_handle(
    *,
    method: str,
    path: str,
    query: Mapping[str, str],
    body: bytes,
    credentials: Credentials,
    now: datetime,
    store: MuteStore,
    limiter: RateLimiter,
) -> tuple[int, bytes]:
    """Answer one REST call as Tencent would: the HTTP status and the JSON body."""
    if method.upper() != "POST":
        return HTTPStatus.METHOD_NOT_ALLOWED, _envelope(
            ErrorCode.MALFORMED_HTTP, "Only POST is accepted on the REST API."
        )
    try:
        command = _url_check(path=path, query=query, credentials=credentials, now=now)
        if not limiter.admit((credentials.sdkappid, command), now):
            raise Refusal(
                ErrorCode.RATE_LIMITED,
                f"REST API call frequency over the limit of {limiter.limit} calls per second.",
            )
        document = _body_parse(body, code=_BODY_NOT_JSON.get(command, ErrorCode.BODY_NOT_JSON))
        fields = _COMMANDS[command](
            document=document, sdkappid=credentials.sdkappid, now=now, store=store
        )
    except Refusal as refusal:
        return HTTPStatus.OK, _envelope(refusal.code, refusal.info)
    return HTTPStatus.OK, _envelope(ErrorCode.OK, "", fields)


def protocol_error_body(code: int, info: str) -> bytes:
    """A failure envelope with an arbitrary ErrorCode, for injected faults."""
    return json.dumps({"ActionStatus": "FAIL", "ErrorCode": code, "ErrorInfo": info}).encode()


def _envelope(code: ErrorCode, info: str, fields: Mapping[str, Any] | None = None) -> bytes:
    document = {
        "ActionStatus": "OK" if code == ErrorCode.OK else "FAIL",
        "ErrorCode": int(code),
        "ErrorInfo": info,
        **(fields or {}),
    }
    return json.dumps(document).encode()


def _url_check(
    *, path: str, query: Mapping[str, str], credentials: Credentials, now: datetime
) -> str:
    """Check the URL's shape, then its signature; return the command it names."""
    raw_sdkappid = query.get("sdkappid")
    if not raw_sdkappid:
        raise Refusal(ErrorCode.SDKAPPID_MISSING, "sdkappid is missing from the URL.")
    sdkappid = _uint_parse(raw_sdkappid)
    if sdkappid is None:
        raise Refusal(ErrorCode.SDKAPPID_INVALID, "sdkappid in the URL is not a valid SDKAppID.")
    random = _uint_parse(query.get("random", ""))
    if random is None or random > UINT32_MAX:
        raise Refusal(
            ErrorCode.URL_UNPARSEABLE, "random in the URL must be an unsigned 32-bit integer."
        )
    if query.get("contenttype") != "json":
        raise Refusal(ErrorCode.URL_UNPARSEABLE, "contenttype in the URL must be json.")
    command = _command_parse(path)
    if sdkappid != credentials.sdkappid:
        raise Refusal(
            ErrorCode.SDKAPPID_UNKNOWN,
            "This SDKAppID is unknown in this data centre; check the region's domain.",
        )
    identifier = query.get("identifier")
    if not identifier:
        raise Refusal(ErrorCode.ACCOUNT_IN_URL, "identifier is missing from the URL.")
    _usersig_check(
        usersig=query.get("usersig", ""),
        sdkappid=sdkappid,
        identifier=identifier,
        credentials=credentials,
        now=now,
    )
    if identifier != credentials.identifier:
        raise Refusal(ErrorCode.NOT_ADMIN, "This call needs an App admin identifier.")
    return command


def _uint_parse(text: str) -> int | None:
    if not (text.isascii() and text.isdigit()) or len(text) > _UINT_MAX_DIGITS:
        return None
    return int(text)


def _command_parse(path: str) -> str:
    """The API the path names (its path under the base URL, as muteadmin.tencent.apis has it)."""
    command = path.removeprefix("/")
    if command in _COMMANDS:
        return command
    raise Refusal(ErrorCode.UNKNOWN_COMMAND, "Unknown service or command in the URL.")


def _usersig_check(
    *, usersig: str, sdkappid: int, identifier: str, credentials: Credentials, now: datetime
) -> None:
    """Verify a UserSig as Tencent does: decode, parse, compare claims, check expiry, then HMAC."""
    if not usersig:
        raise Refusal(ErrorCode.USERSIG_EMPTY, "usersig is empty.")
    try:
        document = usersig_decode(usersig)
        if document["TLS.ver"] != USERSIG_VERSION:
            raise UserSigFormatError("unsupported UserSig version")
        claimed_identifier = document["TLS.identifier"]
        claimed_sdkappid = _claim_int(document["TLS.sdkappid"])
        issued = _claim_int(document["TLS.time"])
        lifetime = _claim_int(document["TLS.expire"])
        signature = document["TLS.sig"]
        if not isinstance(claimed_identifier, str) or not isinstance(signature, str):
            raise UserSigFormatError("UserSig fields of the wrong type")
    except (UserSigFormatError, KeyError, TypeError) as exc:
        raise Refusal(ErrorCode.USERSIG_UNPARSEABLE, "usersig cannot be parsed.") from exc
    if claimed_sdkappid != sdkappid:
        raise Refusal(
            ErrorCode.USERSIG_SDKAPPID_MISMATCH,
            "The SDKAppID in the usersig differs from the one in the URL.",
        )
    if claimed_identifier != identifier:
        raise Refusal(
            ErrorCode.USERSIG_IDENTIFIER_MISMATCH,
            "The identifier in the usersig differs from the one in the URL.",
        )
    if issued + lifetime < now.timestamp():
        raise Refusal(ErrorCode.USERSIG_EXPIRED, "usersig has expired; sign a new one.")
    expected = usersig_hmac(
        secret_key=credentials.secret_key,
        identifier=claimed_identifier,
        sdkappid=claimed_sdkappid,
        time=issued,
        expire=lifetime,
    )
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise Refusal(
            ErrorCode.USERSIG_HMAC_MISMATCH,
            "usersig was not signed with this app's secret key.",
        )


def _claim_int(value: object) -> int:
    """A numeric UserSig claim; some generators write numbers as decimal strings."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise UserSigFormatError("UserSig claim is not an integer")


def _body_parse(body: bytes, *, code: ErrorCode) -> dict[str, Any]:
    try:
        document = json.loads(body.decode("utf-8"), parse_constant=_json_constant_reject)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Refusal(code, "The request body is not valid JSON.") from exc
    if not isinstance(document, dict):
        raise Refusal(code, "The request body must be a JSON object.")
    return document


def _json_constant_reject(name: str) -> None:
    # Python accepts NaN and Infinity; JSON (and Tencent) does not.
    raise ValueError(f"{name} is not JSON")


def _get_answer(
    *, document: dict[str, Any], sdkappid: int, now: datetime, store: MuteStore
) -> dict[str, int]:
    if "Get_Account" not in document:
        raise Refusal(ErrorCode.GET_ACCOUNT_MISSING, "Get_Account is missing.")
    account = document["Get_Account"]
    if not account_valid(account):
        raise Refusal(ErrorCode.GET_ACCOUNT_INVALID, "Get_Account must be a valid account string.")
    mutes = store.mutes_read(sdkappid=sdkappid, account=account)
    return {
        "C2CmsgNospeakingTime": mutes.c2c.remaining(now),
        "GroupmsgNospeakingTime": mutes.group.remaining(now),
    }


def _set_answer(
    *, document: dict[str, Any], sdkappid: int, now: datetime, store: MuteStore
) -> dict[str, int]:
    if "Set_Account" not in document:
        raise Refusal(ErrorCode.SET_ACCOUNT_MISSING, "Set_Account is missing.")
    account = document["Set_Account"]
    if not account_valid(account):
        raise Refusal(ErrorCode.SET_ACCOUNT_INVALID, "Set_Account must be a valid account string.")
    c2c = _mute_field(document, "C2CmsgNospeakingTime", ErrorCode.C2C_TIME_INVALID, now)
    group = _mute_field(document, "GroupmsgNospeakingTime", ErrorCode.GROUP_TIME_INVALID, now)
    if c2c is None and group is None:
        raise Refusal(
            ErrorCode.NO_TIME_GIVEN,
            "Give C2CmsgNospeakingTime, GroupmsgNospeakingTime or both.",
        )
    store.mutes_write(sdkappid=sdkappid, account=account, c2c=c2c, group=group, now=now)
    return {}


def _mute_field(
    document: dict[str, Any], name: str, code: ErrorCode, now: datetime
) -> MuteState | None:
    """The mute a setnospeaking field asks for, or None when the field is left out."""
    if name not in document:
        return None
    seconds = document[name]
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= UINT32_MAX:
        raise Refusal(code, f"{name} must be an integer from 0 to {UINT32_MAX}.")
    if seconds == 0:
        return MUTE_OFF
    if seconds == PERMANENT:
        return MuteState(permanent=True)
    return MuteState(until=now + timedelta(seconds=seconds))


# One handler per emulated API, keyed by the API's path (muteadmin.tencent.apis).
_COMMANDS: dict[str, Callable[..., dict[str, Any]]] = {
    GET_NOSPEAKING.path: _get_answer,
    SET_NOSPEAKING.path: _set_answer,
    SEND_MSG.path: message_answer,
}
# What a body that is not a JSON object answers, where the service's code is not 130001.
_BODY_NOT_JSON = {SEND_MSG.path: ErrorCode.MSG_NOT_JSON}
