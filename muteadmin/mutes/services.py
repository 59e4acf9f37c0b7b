"""The one door to Tencent: every mute query and change goes through here and is audited."""

import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.translation import gettext as _

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.operators import SCHEDULER
from muteadmin.audit.services import AuditCall, audit_call
from muteadmin.core.clock import clock
from muteadmin.mutes.announcements import permanent_mutes_announced
from muteadmin.mutes.calls import MuteCall, MuteChangeResult, audited_calls, change_result
from muteadmin.mutes.permissions import mute_change_checked
from muteadmin.mutes.seen import SeenMutes, StaleMuteState, kinds_changed
from muteadmin.tencent.accounts import validate_account
from muteadmin.tencent.errors import TencentError
from muteadmin.tencent.messages import SentMessage, message_send, validate_text
from muteadmin.tencent.nospeaking import (
    PERMANENT,
    MuteStatus,
    nospeaking_get,
    nospeaking_set,
)
from muteadmin.upstream.clients import tim_client
from muteadmin.upstream.ratelimit import UpstreamShare
from muteadmin.upstream.registry import tim_app

# A page answers within this many seconds whatever Tencent does; a change spends at most
# BEFORE_CHANGE_DEADLINE of it on the query that records the state before the change.
INTERACTIVE_DEADLINE = 15.0
BEFORE_CHANGE_DEADLINE = 6.0


class MuteChangeNotSent(Exception):
    """The query made before a change failed, so the change was never sent; `error` says why."""

    def __init__(self, error: TencentError) -> None:
        self.error = error
        super().__init__(error.error_info)


def mute_get(
    *,
    account: str,
    operator: AbstractBaseUser | None,
    client_ip: str | None = None,
    deadline: float = INTERACTIVE_DEADLINE,
    job_id: int | None = None,
    correlation_id: uuid.UUID | None = None,
    app: str | None = None,
    on_behalf_of: AbstractBaseUser | None = None,
) -> MuteStatus:
    """Ask Tencent how long the account's mutes still run in `app`, leaving an audit row.

    `app` is a name from TIM_APPS, None for the default app. Raises KeyError for an app not
    configured, InvalidAccount (nothing written, nothing sent) or the call's error.
    `on_behalf_of` names on the row whose request the operator is carrying out. `operator`
    is None for muteadmin's own checks (the audit sweeper's re-check), recorded with no name.
    """
    (call,) = mute_get_many(
        accounts=[account],
        operator=operator,
        client_ip=client_ip,
        deadline=deadline,
        job_id=job_id,
        correlation_id=correlation_id,
        app=app,
        on_behalf_of=on_behalf_of,
    )
    if call.error is not None:
        raise call.error
    return call.status


def mute_get_many(
    *,
    accounts: Sequence[str],
    operator: AbstractBaseUser | None,
    client_ip: str | None = None,
    deadline: float = INTERACTIVE_DEADLINE,
    job_id: int | None = None,
    executor: Executor | None = None,
    correlation_id: uuid.UUID | None = None,
    app: str | None = None,
    on_behalf_of: AbstractBaseUser | None = None,
    share: UpstreamShare | None = None,
) -> list[MuteCall]:
    """mute_get for each account of `app`, the calls side by side on `executor` (else one by one).

    The audit rows are begun together before any call and completed together after the last;
    they share `correlation_id` (by default the bulk job's, else a new one). With `share`, the
    calls keep to that share of the cap (muteadmin's own background checks).
    """
    target = tim_app(app)

    def call(account: str, audit: AuditCall) -> MuteStatus:
        status = nospeaking_get(tim_client(target.name, share=share), account, deadline=deadline)
        audit.ok(
            request_random=status.random,
            c2c_observed=status.c2c_seconds,
            group_observed=status.group_seconds,
        )
        return status

    made = audited_calls(
        accounts,
        call,
        executor=executor,
        operator=operator,
        action=AuditEntry.Action.QUERY,
        client_ip=client_ip,
        job_id=job_id,
        correlation_id=correlation_id,
        app=target.name,
        on_behalf_of=_username(on_behalf_of),
    )
    return [replace(result, status=value) for result, value in made]


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
    app: str | None = None,
    expected: SeenMutes | None = None,
    on_behalf_of: AbstractBaseUser | None = None,
    correlation_id: uuid.UUID | None = None,
    rule: str | None = None,
    by_scheduler: bool = False,
) -> MuteChangeResult:
    """Set either or both mutes in `app` (None leaves one alone), auditing query and change.

    The query before the change guards it: when it fails, MuteChangeNotSent (nothing sent); when
    the mutes differ from `expected` (what the moderator's page showed, None for a script) by
    more than the time since, StaleMuteState (nothing sent); a lift of a mute it finds not
    muted is not sent, and when nothing is left to send the result's `change` is None.
    With `query_before=False` (bulk jobs) the state before is not asked for: one call, not two.
    Both share a correlation id: a bulk job's, else `correlation_id` or a new one. `app` is a
    name from TIM_APPS (KeyError if not configured); for the rest see mute_change_many.
    """
    # A refusal here is audited: what was asked, of which account, and why it was refused.
    audited = dict(account=account, reason=reason, client_ip=client_ip, app=app)
    _change_checked(operator, c2c_seconds, group_seconds, on_behalf_of, audited=audited)
    started = clock().monotonic()
    correlation_id = None if job_id is not None else (correlation_id or uuid.uuid4())
    before = None
    not_muted: tuple[str, ...] = ()
    # What the query before and the change have in common, on their audit rows too.
    common = dict(operator=operator, on_behalf_of=on_behalf_of, by_scheduler=by_scheduler)
    common |= dict(client_ip=client_ip, job_id=job_id, app=app, correlation_id=correlation_id)
    if query_before:
        before = _state_before(
            account=account, deadline=min(BEFORE_CHANGE_DEADLINE, deadline), **common
        )
        c2c_seconds, group_seconds, not_muted = _still_to_send(
            before, expected=expected, c2c_seconds=c2c_seconds, group_seconds=group_seconds
        )
        if c2c_seconds is None and group_seconds is None:
            return _nothing_sent(before, not_muted=not_muted)
    (call,) = mute_change_many(
        accounts=[account],
        reason=reason,
        rule=rule,
        c2c_seconds=c2c_seconds,
        group_seconds=group_seconds,
        deadline=deadline - (clock().monotonic() - started),
        before={account: before} if before is not None else None,
        **common,
    )
    if call.error is not None:
        raise call.error
    return replace(call.change, not_muted=not_muted)


def _state_before(*, by_scheduler: bool, **query: Any) -> MuteStatus:
    """mute_get for the query before a change; its failure means the change was never sent."""
    query["operator"], query["on_behalf_of"] = _audited_as(
        query["operator"], query["on_behalf_of"], by_scheduler=by_scheduler
    )
    try:
        return mute_get(**query)
    except TencentError as exc:
        raise MuteChangeNotSent(exc) from exc


def _still_to_send(
    before: MuteStatus,
    *,
    expected: SeenMutes | None,
    c2c_seconds: int | None,
    group_seconds: int | None,
) -> tuple[int | None, int | None, tuple[str, ...]]:
    """What of a change is sent after the query before it, and the lifts of unmuted kinds dropped.

    Raises StaleMuteState when the mutes are not what `expected` has run down to.
    """
    if expected is not None and (moved := kinds_changed(seen=expected, status=before)):
        raise StaleMuteState(status=before, seen=expected, kinds=moved)
    requested = {"c2c": c2c_seconds, "group": group_seconds}
    not_muted = tuple(
        kind
        for kind, seconds in requested.items()
        if seconds == 0 and getattr(before, f"{kind}_seconds") == 0
    )
    # Lifting a mute that is not there would still reach Tencent and the history: drop it.
    return (
        None if "c2c" in not_muted else c2c_seconds,
        None if "group" in not_muted else group_seconds,
        not_muted,
    )


def _nothing_sent(before: MuteStatus, *, not_muted: tuple[str, ...]) -> MuteChangeResult:
    """The result of a change that found nothing to send: the state before, as it still is."""
    return MuteChangeResult(
        before=before,
        change=None,
        c2c_after=before.c2c_seconds,
        group_after=before.group_seconds,
        not_muted=not_muted,
    )


def mute_change_many(
    *,
    accounts: Sequence[str],
    operator: AbstractBaseUser,
    reason: str,
    c2c_seconds: int | None = None,
    group_seconds: int | None = None,
    client_ip: str | None = None,
    job_id: int | None = None,
    deadline: float = INTERACTIVE_DEADLINE,
    executor: Executor | None = None,
    before: Mapping[str, MuteStatus] | None = None,
    correlation_id: uuid.UUID | None = None,
    app: str | None = None,
    on_behalf_of: AbstractBaseUser | None = None,
    rule: str | None = None,
    by_scheduler: bool = False,
) -> list[MuteCall]:
    """The same change to each account of `app`, the calls side by side on `executor`.

    Nothing is queried first: a mute left alone is run down from `before` (an earlier query's
    state, by account), else None. Rows share `correlation_id` (by default the job's) and name
    `rule` and `on_behalf_of` (an approved request's requester), or with `by_scheduler` the
    scheduler for them or `operator`. Raises PermissionDenied (ApprovalRequired) before writing.
    """
    _change_checked(operator, c2c_seconds, group_seconds, on_behalf_of)
    before, target = before or {}, tim_app(app)

    def call(account: str, audit: AuditCall) -> MuteChangeResult:
        lengths = {"c2c": c2c_seconds, "group": group_seconds}
        change = nospeaking_set(tim_client(target.name), account, **lengths, deadline=deadline)
        result = change_result(change, before=before.get(account))
        audit.ok(
            request_random=change.random,
            c2c_observed=result.c2c_after,
            group_observed=result.group_after,
        )
        return result

    names = _audited_as(operator, on_behalf_of, by_scheduler=by_scheduler)
    made = audited_calls(
        accounts,
        call,
        executor=executor,
        operator=names[0],
        action=AuditEntry.Action.CHANGE,
        client_ip=client_ip,
        job_id=job_id,
        c2c_requested=c2c_seconds,
        group_requested=group_seconds,
        reason=reason,
        correlation_id=correlation_id,
        app=target.name,
        on_behalf_of=_username(names[1]),
        rule=rule,
    )
    if job_id is None and PERMANENT in (c2c_seconds, group_seconds):
        facts = dict(reason=reason, rule=rule, c2c_seconds=c2c_seconds, group_seconds=group_seconds)
        permanent_mutes_announced(made, operator, on_behalf_of, app=target.name, **facts)
    return [replace(result, change=value) for result, value in made]


def _change_checked(
    operator: AbstractBaseUser,
    c2c_seconds: int | None,
    group_seconds: int | None,
    on_behalf_of: AbstractBaseUser | None,
    *,
    audited: dict[str, Any] | None = None,
) -> None:
    """ValueError for a change of nothing; PermissionDenied for one the operator may not make.

    With `audited` (the account, reason, client address and app asked), a refusal leaves an
    audit row (`denied`) first.
    """
    if c2c_seconds is None and group_seconds is None:
        raise ValueError(_("Choose a new C2C or group mute, or both."))
    mute_change_checked(
        operator=operator,
        c2c_seconds=c2c_seconds,
        group_seconds=group_seconds,
        on_behalf_of=on_behalf_of,
        audit=audited is not None,
        **(audited or {}),
    )


def _audited_as(
    operator: AbstractBaseUser, on_behalf_of: AbstractBaseUser | None, *, by_scheduler: bool
) -> tuple[AbstractBaseUser, AbstractBaseUser | None]:
    """Whom a change's rows name, operator and on behalf of: the scheduler for its person, when
    the worker makes it."""
    if by_scheduler:
        return SCHEDULER, on_behalf_of or operator
    return operator, on_behalf_of


def _username(user: AbstractBaseUser | None) -> str | None:
    return user.get_username() if user is not None else None


def notice_send(
    *,
    account: str,
    text: str,
    operator: AbstractBaseUser,
    correlation_id: uuid.UUID | None,
    language: str = "",
    client_ip: str | None = None,
    app: str | None = None,
    job_id: int | None = None,
    deadline: float = INTERACTIVE_DEADLINE,
    rule: str | None = None,
) -> SentMessage:
    """Send the account `text` as a one-to-one message from `app`'s admin, as a notice row.

    The row shares the change's `correlation_id`, names its `rule` and records the text in its
    details; it is begun before the call and completed after, like a change. Raises
    InvalidAccount or ValueError (an empty or oversized text) before anything is written, else
    the call's error.
    """
    validate_account(account)
    validate_text(text)
    target = tim_app(app)
    with audit_call(
        account=account,
        operator=operator,
        action=AuditEntry.Action.NOTICE,
        client_ip=client_ip,
        job_id=job_id,
        correlation_id=correlation_id,
        app=target.name,
        rule=rule or None,
        details={"text": text, "language": language},
    ) as audit:
        audit.start()
        sent = message_send(tim_client(target.name), account, text=text, deadline=deadline)
        audit.ok(
            request_random=sent.random,
            details={"msg_random": sent.msg_random, "msg_key": sent.msg_key},
        )
    return sent
