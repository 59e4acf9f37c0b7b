"""What the emulator answers a call it refuses: Tencent's ErrorCode values and the refusal."""

from enum import IntEnum

from muteadmin.tencent.accounts import ACCOUNT_MAX_BYTES


class ErrorCode(IntEnum):
    """The ErrorCode values the emulator answers with."""

    OK = 0
    URL_UNPARSEABLE = 60002
    ACCOUNT_IN_URL = 60004
    SDKAPPID_INVALID = 60006
    RATE_LIMITED = 60007
    MALFORMED_HTTP = 60008
    UNKNOWN_COMMAND = 60009
    NOT_ADMIN = 60010
    SDKAPPID_MISSING = 60012
    USERSIG_EXPIRED = 70001
    USERSIG_EMPTY = 70002
    USERSIG_UNPARSEABLE = 70003
    USERSIG_HMAC_MISMATCH = 70009
    USERSIG_IDENTIFIER_MISMATCH = 70013
    USERSIG_SDKAPPID_MISMATCH = 70014
    SDKAPPID_UNKNOWN = 70020
    BODY_NOT_JSON = 130001
    GET_ACCOUNT_MISSING = 130002
    GET_ACCOUNT_INVALID = 130003
    SET_ACCOUNT_MISSING = 130004
    SET_ACCOUNT_INVALID = 130005
    C2C_TIME_INVALID = 130006
    GROUP_TIME_INVALID = 130007
    NO_TIME_GIVEN = 130008
    # sendmsg ("Sending One-to-One Messages to One User")
    MSG_NOT_JSON = 90001
    MSG_BODY_INVALID = 90002
    TO_ACCOUNT_INVALID = 90003
    MSG_RANDOM_INVALID = 90005
    MSG_BODY_NOT_ARRAY = 90007
    FROM_ACCOUNT_INVALID = 90008
    TO_ACCOUNT_UNKNOWN = 90012
    MSG_LIFETIME_INVALID = 90026
    SYNC_OTHER_MACHINE_INVALID = 90031
    MSG_TOO_LONG = 93000


class Refusal(Exception):
    """An application-level error: answered with HTTP 200 and this ErrorCode."""

    def __init__(self, code: ErrorCode, info: str):
        super().__init__(info)
        self.code = code
        self.info = info


def account_valid(account: object) -> bool:
    """Whether `account` is an account ID Tencent accepts in a body: 1 to 32 printable bytes."""
    return (
        isinstance(account, str)
        and 0 < len(account.encode()) <= ACCOUNT_MAX_BYTES
        and account.isprintable()
    )
