"""Exceptions for Tencent Chat REST calls, and the one function that maps a response to them."""

from collections.abc import Callable
from typing import Any, ClassVar

from muteadmin.tencent.redaction import redact

HTTP_OK = 200
HTTP_TOO_MANY_REQUESTS = 429
HTTP_SERVER_ERROR = 500

RATE_LIMITED_CODES = frozenset({60007, 60011, 60018, 60019, 70050})
CONFIGURATION_CODES = frozenset(
    {60004, 60005, 60006, 60010, 60016, 60017, 60020, 60021, 90009}
    | {70001, 70002, 70003, 70009, 70013, 70014, 70016, 70020}
)
INVALID_REQUEST_CODES = frozenset(
    {60002, 60003, 60009, 60012, 60015, 70051, 70107}
    | {130001, 130002, 130003, 130004, 130005, 130006, 130007, 130008}
    # sendmsg: a malformed body, an account that does not exist, a message over 12 KB.
    | {90001, 90002, 90003, 90005, 90007, 90008, 90012, 90026, 90031, 93000}
)
# Codes Tencent documents as "try again"; 70050 is absent on purpose: it asks for a minute's pause.
RETRYABLE_CODES = frozenset({60007, 60008, 60011, 60013, 60018, 60019, 130014})
USERSIG_EXPIRED = 70001
ACCOUNT_NOT_IMPORTED = 70107


def N_(message: str) -> str:
    """Marks a sentence for the translation catalogs; it is translated when shown (`translate`)."""
    return message


# Sentences for codes whose advice is more specific than their family's.
_CODE_MESSAGES = {
    60010: N_(
        "Tencent says the configured identifier is not an app admin; ask an administrator "
        "to set TIM_ADMIN_IDENTIFIER to one of the app's admin accounts."
    ),
    60020: N_("Tencent says the app's paid plan has expired; ask an administrator to renew it."),
    60021: N_(
        "Tencent refused this server's IP address; ask an administrator to allow it "
        "in the Chat console."
    ),
    70001: N_(
        "Tencent rejected the admin signature as expired even after it was renewed; ask an "
        "administrator to check this server's clock."
    ),
    70016: N_(
        "Tencent does not know this app in the configured region; ask an administrator to "
        "check TIM_REGION."
    ),
    70020: N_(
        "Tencent does not know this app in the configured region; ask an administrator to "
        "check TIM_REGION."
    ),
    70050: N_(
        "Tencent has paused requests after repeated signature failures; wait a minute, then "
        "ask an administrator to check the secret key if it happens again."
    ),
    70051: N_(
        "Tencent says this account is blacklisted, so its mutes cannot be changed; "
        "contact Tencent support if that is unexpected."
    ),
    70107: N_("This account does not exist in the chat app; check the account ID and try again."),
    130005: N_("Tencent says this account ID is not valid; check it and try again."),
    90003: N_("This account does not exist in the chat app, so it cannot be sent a message."),
    90012: N_("This account does not exist in the chat app, so it cannot be sent a message."),
    93000: N_("The message is too long for Tencent (at most 12 KB); shorten it."),
}


class TencentError(Exception):
    """A Tencent Chat REST call failed; carries ErrorCode, ErrorInfo, HTTP status and random."""

    default_message: ClassVar[str] = N_(
        "Tencent could not complete the request; try again, and report it if it keeps happening."
    )
    # Puts a sentence into the reader's language: as it is here, where nothing knows Django;
    # muteadmin.upstream installs Django's gettext when the project starts.
    translate: ClassVar[Callable[[str], str]] = staticmethod(lambda message: message)
    # Whether a call that failed this way may still have been carried out: an answer from Tencent
    # with an ErrorCode says it was not; a request whose answer was lost may have been applied.
    may_have_applied: ClassVar[bool] = False

    def __init__(
        self,
        error_info: str,
        *,
        error_code: int | None = None,
        http_status: int | None = None,
        random: int | None = None,
        attempts: int = 1,
    ) -> None:
        # ErrorInfo and transport messages may quote the request URL, which holds the UserSig.
        self.error_info = redact(error_info)
        self.error_code = error_code
        self.http_status = http_status
        self.random = random
        self.attempts = attempts
        super().__init__(self.error_info)

    def __str__(self) -> str:
        return (
            f"{self.error_info} (ErrorCode {self.error_code}, HTTP {self.http_status}, "
            f"random {self.random}, attempts {self.attempts})"
        )

    @property
    def moderator_message(self) -> str:
        """A sentence for a moderator: what happened and what to do."""
        return self.translate(_CODE_MESSAGES.get(self.error_code, self.default_message))

    def change_message(self, *, sent: bool) -> str:
        """Sentences for a failed change, saying first whether it could have reached Tencent.

        `sent` is False when the failure was on the query made before the change, which was then
        never sent. Like moderator_message, never the exception's text: no URL, no raw timeout.
        """
        if not sent:
            sentence = N_(
                "Nothing was changed: muteadmin could not read the account's current mutes, "
                "which it checks before every change. %(advice)s"
            )
            return self.translate(sentence) % {"advice": self.moderator_message}
        if self.may_have_applied:
            sentence = N_(
                "The change may have gone through: %(lost)s Check the current mutes "
                "above before trying again."
            )
            return self.translate(sentence) % {"lost": self.lost_answer}
        sentence = N_("Nothing was changed: Tencent refused the change. %(advice)s")
        return self.translate(sentence) % {"advice": self.moderator_message}

    @property
    def lost_answer(self) -> str:
        """What became of the answer to a call that may have been applied, as a sentence."""
        return self.translate(N_("Tencent's answer was lost or unreadable."))

    @property
    def code_label(self) -> str:
        """A short reference shown next to the sentence, such as "Tencent error 70009"."""
        if self.error_code is not None:
            return self.translate(N_("Tencent error %(code)s")) % {"code": self.error_code}
        if self.http_status is not None and self.http_status != HTTP_OK:
            return f"HTTP {self.http_status}"
        return self.translate(N_("no valid response"))

    @property
    def retryable(self) -> bool:
        """Whether sending the same request again may succeed."""
        return self.error_code in RETRYABLE_CODES

    @property
    def account_missing(self) -> bool:
        """Whether Tencent says the account does not exist in the app (never imported)."""
        return self.error_code == ACCOUNT_NOT_IMPORTED


class TencentTransportError(TencentError):
    """Tencent could not be reached, or answered with something that is not its JSON envelope."""

    default_message = N_(
        "Tencent could not be reached or sent an unreadable answer; try again in a moment."
    )
    may_have_applied = True

    @property
    def retryable(self) -> bool:
        return True


class TencentTimeout(TencentTransportError):
    """Tencent did not connect or answer within the timeout."""

    # Whether a change may have gone through is said by change_message, which knows which call
    # timed out: a lookup, the query before a change (nothing sent) or the change itself.
    default_message = N_("Tencent did not answer in time; try again in a moment.")

    @property
    def lost_answer(self) -> str:
        return self.translate(N_("Tencent did not answer in time."))

    @property
    def code_label(self) -> str:
        return self.translate(N_("timeout"))


class TencentRateLimited(TencentError):
    """Tencent refused the call because too many requests were sent."""

    default_message = N_(
        "Tencent is receiving too many requests right now; wait a few seconds and try again."
    )

    @property
    def retryable(self) -> bool:
        # An HTTP 429 has no ErrorCode; 70050 asks for a minute's pause, longer than any deadline.
        return self.error_code is None or self.error_code in RETRYABLE_CODES


class TencentConfigurationError(TencentError):
    """The app's credentials, admin identifier or region are wrong; retrying cannot help."""

    default_message = N_(
        "Tencent rejected this dashboard's credentials; ask an administrator to check the "
        "SDKAppID, secret key, admin identifier and region."
    )


class TencentInvalidRequest(TencentError):
    """Tencent rejected the request itself (a bad account or body); retrying cannot help."""

    default_message = N_(
        "Tencent rejected the request as invalid; check the account ID and values, and report "
        "it if they look right."
    )


class TencentUpstreamError(TencentError):
    """Tencent reported an internal error, or answered with an unknown code or unexpected values."""

    default_message = N_(
        "Tencent reported an unexpected error; try again in a moment, and report it if it "
        "keeps happening."
    )


def error_from_response(
    *, http_status: int, payload: dict[str, Any] | None, random: int
) -> TencentError | None:
    """Return the error a response stands for, or None when `ErrorCode` is 0."""
    details = {"http_status": http_status, "random": random}
    if http_status >= HTTP_SERVER_ERROR:
        return TencentTransportError(f"Tencent answered HTTP {http_status}", **details)
    if http_status == HTTP_TOO_MANY_REQUESTS:
        return TencentRateLimited(f"Tencent answered HTTP {http_status}", **details)
    if http_status != HTTP_OK:
        # Tencent answers 200 for every outcome, so anything else means the base URL is wrong.
        return TencentConfigurationError(
            f"Tencent answered HTTP {http_status}; check the base URL", **details
        )
    if not isinstance(payload, dict):
        return TencentTransportError(
            "Tencent answered with a body that is not a JSON object", **details
        )
    code = payload.get("ErrorCode")
    if type(code) is not int:
        return TencentTransportError("Tencent answered without an integer ErrorCode", **details)
    if code == 0:
        return None
    info = str(payload.get("ErrorInfo", ""))
    if code in RATE_LIMITED_CODES:
        kind: type[TencentError] = TencentRateLimited
    elif code in CONFIGURATION_CODES:
        kind = TencentConfigurationError
    elif code in INVALID_REQUEST_CODES:
        kind = TencentInvalidRequest
    else:
        kind = TencentUpstreamError
    return kind(info, error_code=code, **details)
