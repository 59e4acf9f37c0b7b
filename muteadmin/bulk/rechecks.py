"""Settling a change a dead worker may have sent: from its audit row, or by asking Tencent."""

from collections.abc import Callable
from datetime import datetime

from muteadmin.audit.models import AuditEntry
from muteadmin.bulk.models import BulkJob
from muteadmin.tencent.nospeaking import PERMANENT, MuteStatus

# A re-checked mute may have run down by the time since the claim plus this, and still match.
RECHECK_SLACK_SECONDS = 5.0


def mute_state_matches(*, requested: int | None, observed: int, elapsed: float) -> bool:
    """Whether a mute seen `elapsed` seconds after a change was asked for is what it asked.

    A length then has between requested - elapsed - slack and requested seconds left;
    permanent and lifted (0) must be exactly that; a mute not asked for (None) always matches.
    """
    if requested is None:
        return True
    if requested in (0, PERMANENT):
        return observed == requested
    return requested - elapsed - RECHECK_SLACK_SECONDS <= observed <= requested


def change_recorded(*, job: BulkJob, account: str) -> dict | None:
    """The audit row of the job's change to the account that Tencent accepted, if any."""
    changes = AuditEntry.objects.filter(
        job_id=job.pk, account=account, action=AuditEntry.Action.CHANGE
    )
    done = changes.filter(outcome=AuditEntry.Outcome.OK).order_by("-id")
    return done.values("id", "c2c_observed", "group_observed").first()


def change_may_have_left(*, job: BulkJob, account: str) -> bool:
    """Every call's audit row is committed before the call: without one, none left."""
    return AuditEntry.objects.filter(
        job_id=job.pk, account=account, action=AuditEntry.Action.CHANGE
    ).exists()


def change_applied(
    *, job: BulkJob, account: str, claimed_at: datetime, lookup: Callable[[str], MuteStatus]
) -> MuteStatus | None:
    """Ask Tencent (through `lookup`) whether the account's mutes are what the job asked for.

    The status when they are, None when the change must be sent (again).
    """
    status = lookup(account)
    elapsed = (status.observed_at - claimed_at).total_seconds()
    if mute_state_matches(
        requested=job.c2c_seconds, observed=status.c2c_seconds, elapsed=elapsed
    ) and mute_state_matches(
        requested=job.group_seconds, observed=status.group_seconds, elapsed=elapsed
    ):
        return status
    return None
