"""Completing audit rows left pending: a crash or a database outage leaves them so for good.

A row still pending AUDIT_PENDING_SWEEP_AFTER_SECONDS after it was begun (well past the longest
call's deadline) can no longer be completed by the process that began it. The sweeper completes
it through the audit services, so the hash chain covers it, with outcome `unknown`: whether the
call reached Tencent cannot be told. For a call on an account it first asks Tencent how the
account stands (mute_get, its own audited query row, correlated with the swept row) and records
what it found in the swept row; an export, or a row with nothing to ask, is completed without.
The periodic tick runs it every minute (muteadmin/periodic), and `manage.py audit_sweep_pending`.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_complete
from muteadmin.core.durations import describe_seconds, duration
from muteadmin.mutes.services import mute_get_many
from muteadmin.tencent.errors import TencentError

# Rows completed by one sweep at most: each may cost a call, and the next sweep takes the rest.
SWEEP_BATCH = 100
# Calls on an account: the ones worth asking Tencent about afterwards.
_CALL_ACTIONS = (AuditEntry.Action.QUERY, AuditEntry.Action.CHANGE)


@dataclass(frozen=True)
class Recheck:
    """What asking Tencent again found: the mutes and the query's row, or why it could not say."""

    c2c_seconds: int | None = None
    group_seconds: int | None = None
    entry_id: int | None = None
    failure: str = ""


def audit_sweep_after() -> timedelta:
    """How long a row stays pending before the sweeper completes it."""
    return timedelta(seconds=settings.AUDIT_PENDING_SWEEP_AFTER_SECONDS)


def audit_sweep_pending(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> list[int]:
    """Complete as `unknown` the oldest rows pending past audit_sweep_after(); return their ids.

    Safe beside another sweeper and beside a late completion: a row is completed only while it
    is still pending (the completion's UPDATE says so), so the first to complete it wins.
    """
    now = now or timezone.now()
    stale = AuditEntry.objects.filter(
        outcome=AuditEntry.Outcome.PENDING, created_at__lt=now - audit_sweep_after()
    ).order_by("id")[:limit]
    swept = []
    for entry in stale:
        if audit_sweep_one(entry=entry, now=now):
            swept.append(entry.pk)
    return swept


def audit_sweep_one(*, entry: AuditEntry, now: datetime | None = None) -> bool:
    """Complete one pending row as `unknown`, re-checking its account first if it was a call.

    Returns whether this call completed it (False: it was completed meanwhile).
    """
    now = now or timezone.now()
    waited = duration(int((now - entry.created_at).total_seconds()))
    recheck = _recheck(entry) if entry.action in _CALL_ACTIONS and entry.account else None
    details: dict[str, Any] = {"swept": {"pending_for": waited}}
    if recheck is not None:
        details["swept"] |= {
            "recheck_entry": recheck.entry_id,
            "recheck_failed": recheck.failure,
        }
    audit_complete(
        entry=entry,
        outcome=AuditEntry.Outcome.UNKNOWN,
        latency_ms=None,
        request_random=None,
        c2c_observed=recheck.c2c_seconds if recheck else None,
        group_observed=recheck.group_seconds if recheck else None,
        error_info=_explanation(entry, waited=waited, recheck=recheck),
        details=details,
    )
    return entry.outcome == AuditEntry.Outcome.UNKNOWN and entry.completed_at is not None


def _recheck(entry: AuditEntry) -> Recheck:
    """Ask Tencent how the row's account stands now, leaving a query row of the same operation."""
    try:
        (call,) = mute_get_many(
            accounts=[entry.account],
            operator=None,
            correlation_id=entry.correlation_id,
            job_id=entry.job_id,
            app=entry.app,
        )
    except KeyError:
        return Recheck(failure=f"the Chat app {entry.app!r} is no longer configured here")
    if call.error is None:
        return Recheck(
            c2c_seconds=call.status.c2c_seconds,
            group_seconds=call.status.group_seconds,
            entry_id=call.entry_id,
        )
    if isinstance(call.error, TencentError):
        said = call.error.error_info or call.error.moderator_message
        failure = f"{call.error.code_label}, {said}"
    else:
        failure = str(call.error) or type(call.error).__name__
    return Recheck(entry_id=call.entry_id, failure=failure)


def _explanation(entry: AuditEntry, *, waited: str, recheck: Recheck | None) -> str:
    """The swept row's error_info: why its outcome is unknown, and what the re-check found."""
    said = (
        f"Outcome unknown: no answer was recorded {waited} after this row was begun (the process "
        "stopped: a crash, or the database was unreachable when it finished)."
    )
    if entry.action not in _CALL_ACTIONS or not entry.account:
        return f"{said} Nothing to re-check."
    said += " Whether the call reached Tencent cannot be told."
    if recheck.failure:
        return f"{said} The account could not be re-checked: {recheck.failure}."
    return (
        f"{said} Re-checked afterwards (audit row {recheck.entry_id}): "
        f"C2C {describe_seconds(recheck.c2c_seconds)}, "
        f"group {describe_seconds(recheck.group_seconds)}."
    )


def audit_sweep_task() -> list[int]:
    """The periodic job: one sweep."""
    return audit_sweep_pending()
