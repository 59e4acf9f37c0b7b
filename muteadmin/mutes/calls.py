"""The results of mute calls, and the audited batch every call to Tencent is made in."""

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from muteadmin.audit.services import AuditCall, audit_calls
from muteadmin.mutes.seen import run_down
from muteadmin.tencent.accounts import InvalidAccount, validate_account
from muteadmin.tencent.nospeaking import MuteChange, MuteStatus


@dataclass(frozen=True)
class MuteChangeResult:
    """What a change did: the state before it (None if not queried) and the state it left behind.

    An `*_after` is None only for a field left alone when the state before was not queried.
    `change` is None when nothing was sent: every mute asked for was a lift of one that the
    query before found not muted (those kinds are in `not_muted`, sent or not).
    """

    before: MuteStatus | None
    change: MuteChange | None
    c2c_after: int | None
    group_after: int | None
    not_muted: tuple[str, ...] = ()


@dataclass(frozen=True)
class MuteCall:
    """One account's call in a batch: its audit row, and what came back or why it failed.

    `entry_id` is None when nothing was sent (an invalid account); `error` is any exception the
    call raised, Tencent's answers (TencentError) and faults on our side alike.
    """

    account: str
    entry_id: int | None
    status: MuteStatus | None = None
    change: MuteChangeResult | None = None
    error: Exception | None = None


def audited_calls[T](
    accounts: Sequence[str],
    call: Callable[[str, AuditCall], T],
    *,
    executor: Executor | None,
    **begun: Any,
) -> list[tuple[MuteCall, T | None]]:
    """Make `call` for each valid account inside audit_calls: rows begun before, completed after.

    This is where accounts are validated: an invalid one gets no row and is sent nothing, its
    InvalidAccount is its result. `call` records what it observed on its AuditCall; whatever
    it raises is recorded there instead (a fault on our side too).
    """
    if len(set(accounts)) != len(accounts):
        raise ValueError("Each account may appear once in a batch of calls.")
    invalid: dict[str, InvalidAccount] = {}
    for account in accounts:
        try:
            validate_account(account)
        except InvalidAccount as exc:
            invalid[account] = exc
    valid = [account for account in accounts if account not in invalid]
    with audit_calls(accounts=valid, **begun) as audits:

        def made(audit: AuditCall) -> tuple[T | None, Exception | None]:
            audit.start()
            try:
                return call(audit.entry.account, audit), None
            except Exception as exc:
                audit.failed(exc)
                return None, exc

        if executor is None or len(audits) < 2:
            outcomes = [made(audit) for audit in audits]
        else:
            outcomes = list(executor.map(made, audits))
    by_account = {
        audit.entry.account: (
            MuteCall(account=audit.entry.account, entry_id=audit.entry.pk, error=error),
            value,
        )
        for audit, (value, error) in zip(audits, outcomes, strict=True)
    }
    for account, exc in invalid.items():
        by_account[account] = (MuteCall(account=account, entry_id=None, error=exc), None)
    return [by_account[account] for account in accounts]


def change_result(change: MuteChange, *, before: MuteStatus | None) -> MuteChangeResult:
    """What a change left behind: as requested, or run down from the state seen before it."""
    return MuteChangeResult(
        before=before,
        change=change,
        c2c_after=_after(
            requested=change.c2c_seconds, before=before, kind="c2c", now=change.observed_at
        ),
        group_after=_after(
            requested=change.group_seconds, before=before, kind="group", now=change.observed_at
        ),
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
    return run_down(seconds, elapsed=(now - before.observed_at).total_seconds())
