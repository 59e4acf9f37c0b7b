"""Clients for the configured Tencent app, or the built-in sandbox when none is configured."""

import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from muteadmin.tencent.apis import Api
from muteadmin.tencent.client import TencentClient
from muteadmin.tencent.regions import region_base_url
from muteadmin.upstream.ratelimit import upstream_slot

# No call, not even a bulk job's in the background, keeps retrying longer than this.
LONGEST_DEADLINE = 60.0


@dataclass(frozen=True)
class _ClientConfig:
    sdkappid: int
    secret_key: str
    identifier: str
    base_url: str
    sandbox: bool


def tim_sandbox_active() -> bool:
    """Whether calls go to the built-in emulator rather than Tencent."""
    return settings.TIM_SDKAPPID is None


def tim_client() -> TencentClient:
    """Return the client for the current settings, one per configuration."""
    if tim_sandbox_active():
        from muteadmin.sandbox.adapter import SANDBOX_BASE_URL
        from muteadmin.sandbox.credentials import sandbox_credentials

        credentials = sandbox_credentials()
        config = _ClientConfig(
            sdkappid=credentials.sdkappid,
            secret_key=credentials.secret_key,
            identifier=credentials.identifier,
            base_url=SANDBOX_BASE_URL,
            sandbox=True,
        )
    else:
        config = _ClientConfig(
            sdkappid=settings.TIM_SDKAPPID,
            secret_key=settings.TIM_SECRET_KEY,
            identifier=settings.TIM_ADMIN_IDENTIFIER,
            base_url=(settings.TIM_API_BASE_URL or region_base_url(settings.TIM_REGION)).rstrip(
                "/"
            ),
            sandbox=False,
        )
    return _client_for(config)


@functools.lru_cache(maxsize=4)
def _client_for(config: _ClientConfig) -> TencentClient:
    client = TencentClient(
        sdkappid=config.sdkappid,
        secret_key=config.secret_key,
        identifier=config.identifier,
        base_url=config.base_url,
        deadline=LONGEST_DEADLINE,
        # Every attempt, the emulator's included, takes a slot under the cap shared by every
        # process using this database.
        before_attempt=functools.partial(
            _upstream_slot_take, app="sandbox" if config.sandbox else "default"
        ),
    )
    if config.sandbox:
        from muteadmin.sandbox.adapter import SandboxAdapter

        client.session.mount(config.base_url, SandboxAdapter())
    return client


def _upstream_slot_take(api: Api, seconds: float, *, app: str) -> Callable[[], None]:
    # The limit is read per call: the setting may lower Tencent's cap for this API, never raise it.
    slot = upstream_slot(
        app=app, api=api, limit=min(settings.TIM_RATE_LIMIT, api.cap_per_second), timeout=seconds
    )
    return slot.sent
