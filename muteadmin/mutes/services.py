"""The one door to Tencent: every mute query and change goes through here and is audited."""

import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_begin, audit_complete
from muteadmin.mutes.ratelimit import upstream_slot
from muteadmin.tencent.client import (
    PERMANENT,
    MuteChange,
    MuteStatus,
    TencentClient,
    validate_account,
)
from muteadmin.tencent.errors import TencentError
from muteadmin.tencent.regions import region_base_url

# A page answers within this many seconds whatever Tencent does; a change spends at most
# BEFORE_CHANGE_DEADLINE of it on the query that records the state before the change.
INTERACTIVE_DEADLINE = 15.0
BEFORE_CHANGE_DEADLINE = 6.0
# No call, not even a bulk job's in the background, keeps retrying longer than this.
LONGEST_DEADLINE = 60.0


@dataclass(frozen=True)
class _ClientConfig:
    sdkappid: int
    secret_key: str
    identifier: str
    base_url: str
    sandbox: bool


@dataclass(frozen=True)
class MuteChangeResult:
    """What a change did: the state before it (None if not queried) and the state it left behind.

    An `*_after` is None only for a field left alone when the state before was not queried.
    """

    before: MuteStatus | None
    change: MuteChange
    c2c_after: int | None
    group_after: int | None


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
        before_attempt=lambda seconds: upstream_slot(timeout=seconds),
    )
    if config.sandbox:
        from muteadmin.sandbox.adapter import SandboxAdapter

        client.session.mount(config.base_url, SandboxAdapter())
    return client


def mute_get(
    *,
    account: str,
    operator: AbstractBaseUser,
    client_ip: str | None = None,
    deadline: float = INTERACTIVE_DEADLINE,
    job_id: int | None = None,
) -> MuteStatus:
    """Ask Tencent how long the account's mutes still run, leaving an audit row."""
    validate_account(account)
    entry = audit_begin(
        operator=operator,
        action=AuditEntry.Action.QUERY,
        account=account,
        client_ip=client_ip,
        job_id=job_id,
    )
    with _audited(entry) as observed:
        status = tim_client().get_mute(account, deadline=deadline)
        observed.update(
            request_random=status.random,
            c2c_observed=status.c2c_seconds,
            group_observed=status.group_seconds,
        )
    return status


def mute_change(
    *,
    account: str,
    operator: AbstractBaseUser,
    reason: str,
    c2c_seconds: int | None = None,
    group_seconds: int | None = None,
    client_ip: str | None = None,
    job_id: int | None = None,
    deadline: float = INTERACTIVE_DEADLINE,
    query_before: bool = True,
) -> MuteChangeResult:
    """Set either or both mutes (None leaves one alone), auditing the query and the change.

    With `query_before=False` (bulk jobs) the state before is not asked for: one call, not two.
    """
    validate_account(account)
    if c2c_seconds is None and group_seconds is None:
        raise ValueError("Choose a new C2C or group mute, or both.")
    if not operator.has_perm("mutes.change_mute"):
        raise PermissionDenied("You may not change mutes.")
    if PERMANENT in (c2c_seconds, group_seconds) and not operator.has_perm(
        "mutes.mute_permanently"
    ):
        raise PermissionDenied("You may not mute accounts permanently.")

    started = time.monotonic()
    before = None
    if query_before:
        before = mute_get(
            account=account,
            operator=operator,
            client_ip=client_ip,
            deadline=min(BEFORE_CHANGE_DEADLINE, deadline),
            job_id=job_id,
        )
    entry = audit_begin(
        operator=operator,
        action=AuditEntry.Action.CHANGE,
        account=account,
        c2c_requested=c2c_seconds,
        group_requested=group_seconds,
        reason=reason,
        client_ip=client_ip,
        job_id=job_id,
    )
    with _audited(entry) as observed:
        change = tim_client().set_mute(
            account,
            c2c=c2c_seconds,
            group=group_seconds,
            deadline=deadline - (time.monotonic() - started),
        )
        c2c_after = _after(requested=c2c_seconds, before=before, kind="c2c", now=change.observed_at)
        group_after = _after(
            requested=group_seconds, before=before, kind="group", now=change.observed_at
        )
        observed.update(
            request_random=change.random, c2c_observed=c2c_after, group_observed=group_after
        )
    return MuteChangeResult(
        before=before, change=change, c2c_after=c2c_after, group_after=group_after
    )


def _after(
    *, requested: int | None, before: MuteStatus | None, kind: str, now: datetime
) -> int | None:
    """One mute's seconds left after a change: as requested, or run down from the query before."""
    if requested is not None:
        return requested
    if before is None:
        return None
    seconds = getattr(before, f"{kind}_seconds")
    if seconds == PERMANENT:
        return PERMANENT
    return max(seconds - int((now - before.observed_at).total_seconds()), 0)


@contextmanager
def _audited(entry: AuditEntry) -> Iterator[dict]:
    """Complete `entry` with the call's outcome; the block fills the dict with what it observed."""
    started = time.monotonic()
    observed: dict = {}

    def latency_ms() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        yield observed
    except TencentError as exc:
        audit_complete(
            entry=entry,
            outcome=AuditEntry.Outcome.ERROR,
            latency_ms=latency_ms(),
            request_random=exc.random,
            error_code=exc.error_code,
            error_info=exc.error_info,
        )
        raise
    except Exception as exc:
        # A fault on our side: close the row so it is not mistaken for a call still in flight.
        audit_complete(
            entry=entry,
            outcome=AuditEntry.Outcome.ERROR,
            latency_ms=latency_ms(),
            request_random=None,
            error_info=f"Internal error ({type(exc).__name__}).",
        )
        raise
    else:
        audit_complete(
            entry=entry, outcome=AuditEntry.Outcome.OK, latency_ms=latency_ms(), **observed
        )
