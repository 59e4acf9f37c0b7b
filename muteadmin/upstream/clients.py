"""Clients for the configured Chat apps; a sandbox app's calls are answered by the emulator."""

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

from muteadmin.core import metrics
from muteadmin.core.clock import Clock, clock
from muteadmin.tencent.apis import Api
from muteadmin.tencent.client import TencentClient
from muteadmin.tencent.errors import (
    TencentConfigurationError,
    TencentError,
    TencentInvalidRequest,
    TencentRateLimited,
    TencentTimeout,
    TencentTransportError,
    TencentUpstreamError,
)
from muteadmin.upstream.ratelimit import UpstreamShare, upstream_slot
from muteadmin.upstream.registry import TimApp, tim_app, tim_apps

# No call, not even a bulk job's in the background, keeps retrying longer than this.
LONGEST_DEADLINE = 60.0
# Most specific first: a timeout is a transport error too.
_OUTCOME_LABELS = (
    (TencentTimeout, "timeout"),
    (TencentTransportError, "transport"),
    (TencentRateLimited, "rate_limited"),
    (TencentConfigurationError, "configuration"),
    (TencentInvalidRequest, "invalid_request"),
    (TencentUpstreamError, "upstream_error"),
)


@dataclass(frozen=True)
class _ClientConfig:
    app: str
    rate_limit: int
    sdkappid: int
    secret_key: str
    identifier: str
    base_url: str
    # The (SDKAppID, admin identifier) of every configured sandbox app, for the emulator; empty
    # for an app Tencent answers.
    sandbox_apps: tuple[tuple[int, str], ...]
    clock: Clock
    share: UpstreamShare | None = None


def tim_sandbox_active(app: str | None = None) -> bool:
    """Whether calls for `app` (default: the default app) go to the built-in emulator."""
    return tim_app(app).sandbox


def tim_client(app: str | None = None, *, share: UpstreamShare | None = None) -> TencentClient:
    """The client for `app` (default: the default app), one per app configuration.

    With `share`, each of its calls also keeps to that share of the cap (a background caller's).
    Raises KeyError for a name TIM_APPS does not configure.
    """
    return _client_for(_config(tim_app(app), clock=clock(), share=share))


def _config(app: TimApp, *, clock: Clock, share: UpstreamShare | None = None) -> _ClientConfig:
    if not app.sandbox:
        return _ClientConfig(
            share=share,
            app=app.name,
            rate_limit=app.rate_limit,
            sdkappid=app.sdkappid,
            secret_key=app.secret_key,
            identifier=app.identifier,
            base_url=app.base_url,
            sandbox_apps=(),
            clock=clock,
        )
    from muteadmin.sandbox.adapter import SANDBOX_BASE_URL
    from muteadmin.sandbox.credentials import sandbox_credentials

    credentials = sandbox_credentials(sdkappid=app.sdkappid, identifier=app.identifier)
    return _ClientConfig(
        share=share,
        app=app.name,
        rate_limit=app.rate_limit,
        sdkappid=credentials.sdkappid,
        secret_key=credentials.secret_key,
        identifier=credentials.identifier,
        base_url=SANDBOX_BASE_URL,
        sandbox_apps=tuple(
            (other.sdkappid, other.identifier) for other in tim_apps().values() if other.sandbox
        ),
        clock=clock,
    )


@functools.lru_cache(maxsize=16)
def _client_for(config: _ClientConfig) -> TencentClient:
    client = TencentClient(
        sdkappid=config.sdkappid,
        secret_key=config.secret_key,
        identifier=config.identifier,
        base_url=config.base_url,
        deadline=LONGEST_DEADLINE,
        clock=config.clock.time,
        monotonic=config.clock.monotonic,
        sleep=config.clock.sleep,
        # Every attempt, the emulator's included, takes a slot under the cap shared by every
        # process using this database.
        before_attempt=functools.partial(
            _upstream_slot_take, app=config.app, rate_limit=config.rate_limit, share=config.share
        ),
        after_attempt=functools.partial(_attempt_count, app=config.app),
    )
    if config.sandbox_apps:
        from muteadmin.sandbox.adapter import SandboxAdapter
        from muteadmin.sandbox.credentials import sandbox_credentials

        # The emulator answers every configured sandbox app, each with its own mutes, as one
        # Tencent data centre answers every app in it.
        apps = [
            sandbox_credentials(sdkappid=sdkappid, identifier=identifier)
            for sdkappid, identifier in config.sandbox_apps
        ]
        client.session.mount(config.base_url, SandboxAdapter(credentials=apps))
    return client


def _attempt_count(api: Api, error: TencentError | None, seconds: float, *, app: str) -> None:
    metrics.upstream_calls.labels(app=app, api=api.name, outcome=attempt_outcome(error)).inc()
    metrics.upstream_latency.labels(app=app, api=api.name).observe(seconds)


def attempt_outcome(error: TencentError | None) -> str:
    """The `outcome` label of an attempt: ok, or the kind of failure (timeout, rate_limited...)."""
    if error is None:
        return "ok"
    for kind, label in _OUTCOME_LABELS:
        if isinstance(error, kind):
            return label
    return "error"


def _upstream_slot_take(
    api: Api, seconds: float, *, app: str, rate_limit: int, share: UpstreamShare | None = None
) -> Callable[[], None]:
    # The app's rate limit may lower Tencent's cap for this API, never raise it.
    cap = min(rate_limit, api.cap_per_second)
    if share is None:
        return upstream_slot(app=app, api=api, limit=cap, timeout=seconds).sent
    started = time.monotonic()
    # The share's own window first: while it waits, people's calls take the shared slots.
    kept = upstream_slot(
        app=app, api=api, limit=share.limit(cap), timeout=seconds, share=share.name
    )
    try:
        slot = upstream_slot(
            app=app, api=api, limit=cap, timeout=max(seconds - (time.monotonic() - started), 0.0)
        )
    except BaseException:
        # Stamped, so it stops counting a window from now rather than waiting to expire.
        kept.sent()
        raise

    def sent() -> None:
        kept.sent()
        slot.sent()

    return sent
