"""The Tencent Chat REST client: one generic call(api, body), timeouts, retries, one UserSig.

It knows no particular API: the typed wrappers (nospeaking.py, ...) build bodies and read answers.
"""

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

from muteadmin.tencent.accounts import validate_account
from muteadmin.tencent.apis import Api
from muteadmin.tencent.errors import (
    USERSIG_EXPIRED,
    TencentConfigurationError,
    TencentError,
    TencentTimeout,
    TencentTransportError,
    error_from_response,
)
from muteadmin.tencent.redaction import redaction_install
from muteadmin.tencent.retry import RetryPolicy
from muteadmin.tencent.transport import WrittenAdapter, written_during
from muteadmin.tencent.usersig import usersig_sign

logger = logging.getLogger(__name__)

RANDOM_LIMIT = 2**32  # `random` is an unsigned 32-bit integer
JSON_HEADERS = {"Content-Type": "application/json"}

DEFAULT_RETRY = RetryPolicy()
USERSIG_LIFETIME = 24 * 60 * 60
USERSIG_RENEW_MARGIN = 10 * 60  # renew early so a signature never expires in flight or to skew
MIN_READ_TIMEOUT = 0.5  # below this an attempt would only time out, so it is not started
# Connections kept open to Tencent. requests keeps 10; a bulk worker calls from dozens of threads,
# and every connection past the kept ones would cost a TCP and TLS handshake per call.
CONNECTIONS_KEPT = 64


@dataclass(frozen=True)
class Reply:
    """A successful answer: its JSON payload, the request's `random`, attempts made, and when."""

    payload: dict[str, Any]
    random: int
    attempts: int
    received_at: datetime


class TencentClient:
    """Calls Tencent's REST APIs as an app admin; one instance serves every thread."""

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
        retry: RetryPolicy = DEFAULT_RETRY,
        usersig_lifetime: int = USERSIG_LIFETIME,
        usersig_renew_margin: int = USERSIG_RENEW_MARGIN,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random_module.Random | None = None,
        before_attempt: Callable[[Api, float], Callable[[], None] | None] | None = None,
        after_attempt: Callable[[Api, TencentError | None, float], None] | None = None,
    ) -> None:
        validate_account(identifier)
        if not secret_key:
            raise ValueError("The Tencent secret key is empty.")
        if deadline < connect_timeout + MIN_READ_TIMEOUT:
            raise ValueError("The deadline leaves no time for a single attempt.")
        if not 0 <= usersig_renew_margin < usersig_lifetime:
            raise ValueError("The UserSig renewal margin must be shorter than its lifetime.")
        self.sdkappid = sdkappid
        self.identifier = identifier
        self.base_url = base_url.rstrip("/")
        if session is None:
            session = requests.Session()
            for prefix in ("https://", "http://"):
                session.mount(prefix, WrittenAdapter(pool_maxsize=CONNECTIONS_KEPT))
        self.session = session
        self._secret_key = secret_key
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._deadline = deadline
        self._retry = retry
        self._usersig_lifetime = usersig_lifetime
        self._usersig_renew_margin = usersig_renew_margin
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._rng = rng if rng is not None else random_module.SystemRandom()
        # Runs before every HTTP attempt, retries included, given the API and the seconds it may
        # block (the time left before the call's deadline less what one attempt needs); whatever
        # it raises ends the call unsent. It may return a callable, run once per attempt when
        # the request has gone out (see _send). A rate limiter shared by processes plugs in here.
        self._before_attempt = before_attempt
        # Runs after every HTTP attempt with the API, the error it ended in (None: answered) and
        # the seconds it took from the request's start to its answer; metrics plug in here.
        self._after_attempt = after_attempt
        self._usersig: tuple[str, float] | None = None  # (UserSig, when to renew it)
        self._usersig_lock = threading.Lock()
        redaction_install()

    def __repr__(self) -> str:
        return (
            f"TencentClient(sdkappid={self.sdkappid}, identifier={self.identifier!r}, "
            f"base_url={self.base_url!r})"
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

    def call(self, api: Api, body: dict[str, Any], *, deadline: float | None = None) -> Reply:
        """Send `body` to `api`, retrying transient failures; raise TencentError if it fails.

        `deadline` caps this call's retries, in seconds, below the client's own deadline.
        """
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
            sent = None
            if self._before_attempt is not None:
                # Waiting here spends the call's own deadline but leaves room for the attempt.
                attempt_needs = self._connect_timeout + MIN_READ_TIMEOUT
                sent = self._before_attempt(api, max(time_left - attempt_needs, 0.0))
                time_left = deadline - (self._monotonic() - started)
            timeout = (
                self._connect_timeout,
                max(MIN_READ_TIMEOUT, min(self._read_timeout, time_left - self._connect_timeout)),
            )
            attempt_started = self._monotonic()
            payload, error = self._send(api, body, random=random, timeout=timeout, sent=sent)
            if self._after_attempt is not None:
                self._after_attempt(api, error, self._monotonic() - attempt_started)
            if error is None:
                return Reply(
                    payload=payload, random=random, attempts=attempt, received_at=self._now()
                )
            error.attempts = attempt
            if error.error_code == USERSIG_EXPIRED and not resigned:
                # Tencent's clock may run ahead of ours: sign afresh, once, without waiting.
                resigned = True
                self._forget_usersig()
                delay = 0.0
            else:
                delay = self._retry.delay(error, attempt=attempt, rng=self._rng)
                if delay is None:
                    raise error
            time_left = deadline - (self._monotonic() - started)
            next_fits = time_left - delay >= self._connect_timeout + MIN_READ_TIMEOUT
            if attempt >= self._retry.max_attempts or not next_fits:
                raise error
            logger.warning(
                "Tencent %s attempt %d failed (%s, random %d); retrying in %.2f s",
                api.name,
                attempt,
                error.code_label,
                random,
                delay,
            )
            if delay:
                self._sleep(delay)

    def _send(
        self,
        api: Api,
        body: dict[str, Any],
        *,
        random: int,
        timeout: tuple[float, float],
        sent: Callable[[], None] | None,
    ) -> tuple[dict[str, Any], TencentError | None]:
        """Make one HTTP attempt; return the payload and the error it stands for, never raising.

        `sent` runs once: when the transport reports the request written (see transport.py),
        or else once the transport returns or fails.
        """
        params = {
            "sdkappid": self.sdkappid,
            "identifier": self.identifier,
            "usersig": self._current_usersig(),
            "random": random,
            "contenttype": "json",
        }
        # Errors are built here but raised by the caller, outside this `except`, so the requests
        # exception (whose text holds the full URL and UserSig) is never chained onto them.
        request = requests.Request(
            "POST",
            f"{self.base_url}/{api.path}",
            params=params,
            data=json.dumps(body),
            headers=JSON_HEADERS,
        )
        once = _Once(sent)
        try:
            prepared = self.session.prepare_request(request)
            # Proxies, certificate bundle (REQUESTS_CA_BUNDLE), as Session.request merges them.
            transport = self.session.merge_environment_settings(prepared.url, {}, None, None, None)
            response = self._send_prepared(prepared, timeout, transport, sent=once)
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
        finally:
            # Gone, failed on its way or never started: either way it no longer waits to go.
            once()
        try:
            payload = json.loads(response.content)
        except ValueError:
            payload = None
        error = error_from_response(
            http_status=response.status_code, payload=payload, random=random
        )
        return (payload if error is None else {}), error

    def _send_prepared(
        self,
        prepared: requests.PreparedRequest,
        timeout: tuple[float, float],
        transport: dict[str, Any],
        *,
        sent: "_Once",
    ) -> requests.Response:
        with written_during(sent):
            return self.session.send(prepared, timeout=timeout, allow_redirects=False, **transport)


class _Once:
    """Runs the callback (if any) the first time it is called, and never again."""

    def __init__(self, callback: Callable[[], None] | None) -> None:
        self._callback = callback

    def __call__(self) -> None:
        callback, self._callback = self._callback, None
        if callback is not None:
            callback()


def _describe(exc: Exception) -> str:
    # TencentError redacts this text; it keeps the kind of failure and the host for operators.
    return f"{type(exc).__name__}: {exc}"
