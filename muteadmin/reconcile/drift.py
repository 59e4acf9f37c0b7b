"""Comparing what Tencent says with what muteadmin expected, and recording each difference.

What muteadmin expects of an account is its last seen state (AccountMuteState) run down to the
moment Tencent answered: a mute that ran out on time is expected to be gone, a permanent one to
stay. A mute more than the stale guard's tolerance away from that (set, lifted or changed
elsewhere; one kind lifted by another client changing the other) is a drift: an audit row of
its own, saying what was expected and what was found.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_begin, audit_complete
from muteadmin.core.durations import describe_seconds
from muteadmin.mutes.seen import KINDS, mutes_agree
from muteadmin.tencent.nospeaking import PERMANENT, MuteStatus

KIND_NAMES = {"c2c": "C2C", "group": "Group"}


class SystemOperator:
    """muteadmin itself as the operator of its own checks: no user, a name no user can have."""

    is_authenticated = False

    def __init__(self, name: str) -> None:
        self.name = name

    def get_username(self) -> str:
        return self.name


# The operator name on the reconcile's lookups and drift rows (parentheses: never a username).
RECONCILE_OPERATOR = SystemOperator("(reconcile)")


@dataclass(frozen=True)
class Drift:
    """One account whose mutes differ from what muteadmin expected, as recorded."""

    app: str
    account: str
    kinds: tuple[str, ...]
    expected: dict[str, int]
    found: dict[str, int]
    noticed_at: datetime
    entry_id: int
    query_entry_id: int | None


def expected_at(state: Mapping[str, Any], *, at: datetime) -> dict[str, int]:
    """Each mute's seconds left at `at`, by the last seen state: run down, or run out."""
    expected = {}
    for kind in KINDS:
        if state[f"{kind}_seconds"] == PERMANENT:
            expected[kind] = PERMANENT
            continue
        ends = state[f"{kind}_expires_at"]
        expected[kind] = max(int((ends - at).total_seconds()), 0) if ends is not None else 0
    return expected


def kinds_drifted(expected: Mapping[str, int], status: MuteStatus) -> tuple[str, ...]:
    """The kinds whose mute Tencent reports differs from the one expected, past the tolerance."""
    return tuple(
        kind
        for kind in KINDS
        if not mutes_agree(observed=getattr(status, f"{kind}_seconds"), expected=expected[kind])
    )


def drift_sentence(
    kinds: tuple[str, ...], *, expected: Mapping[str, int], found: Mapping[str, int]
) -> str:
    """ "C2C: expected not muted, found muted, 1 h left." for each kind that differs."""
    return " ".join(
        f"{KIND_NAMES[kind]}: expected {describe_seconds(expected[kind])}, "
        f"found {describe_seconds(found[kind])}."
        for kind in kinds
    )


def drift_record(
    *,
    app: str,
    status: MuteStatus,
    expected: Mapping[str, int],
    kinds: tuple[str, ...],
    state: Mapping[str, Any],
    query_entry_id: int | None,
    run_id: int,
    correlation_id: Any,
) -> Drift:
    """Write the drift row, chained at once: what was found in the observed columns, both in
    `details`, and the sentence saying so in `error_info`."""
    found = {kind: getattr(status, f"{kind}_seconds") for kind in KINDS}
    # The same shape as a skipped scheduled change's drift row, with what only the reconcile knows.
    details = {
        "by": "reconcile",
        "run": run_id,
        "kinds": list(kinds),
        "expected": dict(expected),
        "found": found,
        "query_entry": query_entry_id,
        # The row whose observation the expectation was run down from, and the last change.
        "expected_from_entry": state["observed_entry_id"],
        "last_change_entry": state["last_change_entry_id"],
    }
    with transaction.atomic():
        entry = audit_begin(
            operator=RECONCILE_OPERATOR,
            action=AuditEntry.Action.DRIFT,
            account=status.account,
            app=app,
            correlation_id=correlation_id,
            details=details,
        )
        audit_complete(
            entry=entry,
            outcome=AuditEntry.Outcome.OK,
            latency_ms=None,
            request_random=None,
            c2c_observed=found["c2c"],
            group_observed=found["group"],
            error_info=drift_sentence(kinds, expected=expected, found=found),
        )
    return Drift(
        app=app,
        account=status.account,
        kinds=kinds,
        expected=dict(expected),
        found=found,
        noticed_at=entry.created_at,
        entry_id=entry.pk,
        query_entry_id=query_entry_id,
    )
