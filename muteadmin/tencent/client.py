"""The Tencent Chat REST client for global mutes: timeouts, retries and one reused UserSig."""

import json
import logging
import random as random_module
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from muteadmin.tencent.errors import (
    HTTP_OK,
    USERSIG_EXPIRED,
    TencentConfigurationError,
    TencentError,
    TencentTimeout,
    TencentTransportError,
    TencentUpstreamError,
    error_from_response,
)
from muteadmin.tencent.redaction import redaction_install
from muteadmin.tencent.usersig import usersig_sign

logger = logging.getLogger(__name__)

PERMANENT = 0xFFFFFFFF  # a mute time meaning "forever", in requests and in answers
RANDOM_LIMIT = 2**32  # `random` is an unsigned 32-bit integer
ACCOUNT_MAX_BYTES = 32
C2C_FIELD = "C2CmsgNospeakingTime"
GROUP_FIELD = "GroupmsgNospeakingTime"
JSON_HEADERS = {"Content-Type": "application/json"}

USERSIG_LIFETIME = 24 * 60 * 60
USERSIG_RENEW_MARGIN = 10 * 60  # renew early so a signature never expires in flight or to skew
MAX_ATTEMPTS = 4
BACKOFF_BASE = 0.2
BACKOFF_CAP = 2.0
MIN_READ_TIMEOUT = 0.5  # below this an attempt would only time out, so it is not started


class InvalidAccount(ValueError):
    """An account ID Tencent would not accept; its message is a sentence for a form."""


def validate_account(account: str) -> None:
    """Raise InvalidAccount unless `account` is 1 to 32 bytes of printable ASCII."""
    if not isinstance(account, str) or not account:
        raise InvalidAccount("Enter an account ID.")
    if not all(" " <= char <= "~" for char in account):
        raise InvalidAccount(
            "An account ID may contain only letters, digits, spaces and ASCII punctuation."
        )
    if len(account) > ACCOUNT_MAX_BYTES:  # printable ASCII: one byte per character
        raise InvalidAccount(f"An account ID is at most {ACCOUNT_MAX_BYTES} characters long.")


def _validate_seconds(name: str, value: int | None) -> None:
    if value is not None and (type(value) is not int or not 0 <= value <= PERMANENT):
        raise ValueError(f"{name} must be an integer from 0 to {PERMANENT} (PERMANENT).")


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


class TencentClient:
    """Calls Tencent's global mute endpoints as an app admin; one instance serves every thread."""

    def __init__(
        self,
        *,
        sdkappid: int,
        secret_key: str,
        identifier: str,
        base_url: str,
        session: requests.Session | None = None,
        connect_timeout: float = 3.05,
        read_timeout: float = 5.0,
        deadline: float = 15.0,
        max_attempts: int = MAX_ATTEMPTS,
        usersig_lifetime: int = USERSIG_LIFETIME,
        usersig_renew_margin: int = USERSIG_RENEW_MARGIN,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random_module.Random | None = None,
        before_attempt: Callable[[float], None] | None = None,
    ) -> None:
        validate_account(identifier)
        if not secret_key:
            raise ValueError("The Tencent secret key is empty.")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1.")
        if deadline < connect_timeout + MIN_READ_TIMEOUT:
            raise ValueError("The deadline leaves no time for a single attempt.")
        if not 0 <= usersig_renew_margin < usersig_lifetime:
            raise ValueError("The UserSig renewal margin must be shorter than its lifetime.")
        self.sdkappid = sdkappid
        self.identifier = identifier
        self.base_url = base_url.rstrip("/")
        self.session = session if session is not None else requests.Session()
        self._secret_key = secret_key
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._deadline = deadline
        self._max_attempts = max_attempts
        self._usersig_lifetime = usersig_lifetime
        self._usersig_renew_margin = usersig_renew_margin
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._rng = rng if rng is not None else random_module.SystemRandom()
        # Runs before every HTTP attempt, retries included, given the seconds it may block (the
        # time left before the call's deadline less what one attempt needs); whatever it raises
        # ends the call unsent. A rate limiter shared with other processes plugs in here.
        self._before_attempt = before_attempt
        self._usersig: tuple[str, float] | None = None  # (UserSig, when to renew it)
        self._usersig_lock = threading.Lock()
        redaction_install()

    def __repr__(self) -> str:
        return (
            f"TencentClient(sdkappid={self.sdkappid}, identifier={self.identifier!r}, "
            f"base_url={self.base_url!r})"
        )

    def get_mute(self, account: str, *, deadline: float | None = None) -> MuteStatus:
        """Return the account's C2C and group mutes (seconds left, 0 or PERMANENT).

        `deadline` caps this call's retries, in seconds, below the client's own deadline.
        """
        validate_account(account)
        payload, random, attempts = self._call(
            "getnospeaking", {"Get_Account": account}, deadline=deadline
        )
        return MuteStatus(
            account=account,
            c2c_seconds=_seconds_answered(payload, C2C_FIELD, random, attempts),
            group_seconds=_seconds_answered(payload, GROUP_FIELD, random, attempts),
            observed_at=self._now(),
            random=random,
            attempts=attempts,
        )

    def set_mute(
        self,
        account: str,
        *,
        c2c: int | None = None,
        group: int | None = None,
        deadline: float | None = None,
    ) -> MuteChange:
        """Set the given mutes (seconds from now, 0 lifts, PERMANENT); a None one is not sent."""
        validate_account(account)
        _validate_seconds("c2c", c2c)
        _validate_seconds("group", group)
        if c2c is None and group is None:
            raise ValueError("Give c2c, group or both.")
        body: dict[str, Any] = {"Set_Account": account}
        # Sending 0 for a mute the moderator did not touch would lift it, so omit it instead.
        if c2c is not None:
            body[C2C_FIELD] = c2c
        if group is not None:
            body[GROUP_FIELD] = group
        _, random, attempts = self._call("setnospeaking", body, deadline=deadline)
        return MuteChange(
            account=account,
            c2c_seconds=c2c,
            group_seconds=group,
            observed_at=self._now(),
            random=random,
            attempts=attempts,
        )

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _current_usersig(self) -> str:
        with self._usersig_lock:
            now = self._clock()
            if self._usersig is None or now >= self._usersig[1]:
                signed_at = int(now)
                usersig = usersig_sign(
                    secret_key=self._secret_key,
                    identifier=self.identifier,
                    sdkappid=self.sdkappid,
                    time=signed_at,
                    expire=self._usersig_lifetime,
                )
                renew_at = signed_at + self._usersig_lifetime - self._usersig_renew_margin
                self._usersig = (usersig, renew_at)
            return self._usersig[0]

    def _forget_usersig(self) -> None:
        with self._usersig_lock:
            self._usersig = None

    def _call(
        self, command: str, body: dict[str, Any], *, deadline: float | None = None
    ) -> tuple[dict[str, Any], int, int]:
        """Send a command, retrying transient failures; return payload, random, attempts."""
        started = self._monotonic()
        deadline = self._deadline if deadline is None else min(deadline, self._deadline)
        # However little time is left, one attempt is always made.
        deadline = max(deadline, self._connect_timeout + MIN_READ_TIMEOUT)
        resigned = False
        attempt = 0
        while True:
            attempt += 1
            random = self._rng.randrange(RANDOM_LIMIT)
            time_left = deadline - (self._monotonic() - started)
            if self._before_attempt is not None:
                # Waiting here spends the call's own deadline but leaves room for the attempt.
                attempt_needs = self._connect_timeout + MIN_READ_TIMEOUT
                self._before_attempt(max(time_left - attempt_needs, 0.0))
                time_left = deadline - (self._monotonic() - started)
            timeout = (
                self._connect_timeout,
                max(MIN_READ_TIMEOUT, min(self._read_timeout, time_left - self._connect_timeout)),
            )
            payload, error = self._send(command, body, random=random, timeout=timeout)
            if error is None:
                return payload, random, attempt
            error.attempts = attempt
            if error.error_code == USERSIG_EXPIRED and not resigned:
                # Tencent's clock may run ahead of ours: sign afresh, once, without waiting.
                resigned = True
                self._forget_usersig()
                delay = 0.0
            elif error.retryable:
                # Full jitter keeps many dashboards from retrying in step after one hiccup.
                delay = self._rng.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)))
            else:
                raise error
            time_left = deadline - (self._monotonic() - started)
            next_fits = time_left - delay >= self._connect_timeout + MIN_READ_TIMEOUT
            if attempt >= self._max_attempts or not next_fits:
                raise error
            logger.warning(
                "Tencent %s attempt %d failed (%s, random %d); retrying in %.2f s",
                command,
                attempt,
                error.code_label,
                random,
                delay,
            )
            if delay:
                self._sleep(delay)

    def _send(
        self, command: str, body: dict[str, Any], *, random: int, timeout: tuple[float, float]
    ) -> tuple[dict[str, Any], TencentError | None]:
        """Make one HTTP attempt; return the payload and the error it stands for, never raising."""
        params = {
            "sdkappid": self.sdkappid,
            "identifier": self.identifier,
            "usersig": self._current_usersig(),
            "random": random,
            "contenttype": "json",
        }
        # Errors are built here but raised by the caller, outside this `except`, so the requests
        # exception (whose text holds the full URL and UserSig) is never chained onto them.
        try:
            response = self.session.post(
                f"{self.base_url}/v4/openconfigsvr/{command}",
                params=params,
                data=json.dumps(body),
                headers=JSON_HEADERS,
                timeout=timeout,
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            return {}, TencentTimeout(_describe(exc), random=random)
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.InvalidSchema,
            requests.exceptions.MissingSchema,
        ) as exc:
            return {}, TencentConfigurationError(_describe(exc), random=random)
        except requests.RequestException as exc:
            return {}, TencentTransportError(_describe(exc), random=random)
        try:
            payload = json.loads(response.content)
        except ValueError:
            payload = None
        error = error_from_response(
            http_status=response.status_code, payload=payload, random=random
        )
        return (payload if error is None else {}), error


def _describe(exc: Exception) -> str:
    # TencentError redacts this text; it keeps the kind of failure and the host for operators.
    return f"{type(exc).__name__}: {exc}"


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
