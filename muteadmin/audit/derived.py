"""The tables derived from the audit log, kept up to date as rows complete, or rebuilt whole.

AuditHourlyCount and AuditOperatorHourlyCount feed the audit page's chart; AccountMuteState
feeds the mute report. Completions update them inside their own transaction, under the chain
lock, so none is lost or counted twice. All three are kept per app; a row written before apps
had names (app null) counts for the default app.
"""

import functools
import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter, or_
from typing import Any

from django.db import models, transaction
from django.db.models import Q

from muteadmin.audit.chain import chain_lock
from muteadmin.audit.models import (
    AccountMuteState,
    AuditEntry,
    AuditHourlyCount,
    AuditOperatorHourlyCount,
)
from muteadmin.core.sql import counters_add, row_where, update_each
from muteadmin.tencent.nospeaking import PERMANENT
from muteadmin.upstream.registry import DEFAULT_APP

# Actions whose successful rows say how long an account's mutes still run.
_OBSERVING_ACTIONS = frozenset({AuditEntry.Action.QUERY, AuditEntry.Action.CHANGE})
# Rows read per round trip, and derived rows written per INSERT, by audit_derived_rebuild.
REBUILD_BATCH = 2_000


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _app(row: Mapping[str, Any]) -> str:
    return row["app"] or DEFAULT_APP


def hourly_counts_add(rows: Sequence[Mapping[str, Any]]) -> None:
    """Count completed rows in the hourly tables: one UPDATE (or INSERT) per hour and kind."""
    counted: Counter[tuple[type[models.Model], tuple[tuple[str, Any], ...]]] = Counter()
    for row in rows:
        key = (
            ("hour", _hour(row["created_at"])),
            ("action", row["action"]),
            ("outcome", row["outcome"]),
            ("app", _app(row)),
        )
        counted[AuditHourlyCount, key] += 1
        if row["operator_username"]:
            operator = ("operator_username", row["operator_username"])
            counted[AuditOperatorHourlyCount, (*key, operator)] += 1
    # Race-free without an upsert: every completion holds the chain lock (chain_lock).
    counters = [(model, dict(key), count) for (model, key), count in counted.items()]
    changed = counters_add(counters, field="count", using=AuditHourlyCount.objects.db)
    for (model, fields, count), rows in zip(counters, changed, strict=True):
        if not rows:
            model.objects.create(**fields, count=count)


def _observes_mutes(row: Mapping[str, Any]) -> bool:
    """Whether a completed row saw how long the account's mutes run (one or both of them)."""
    return (
        row["outcome"] == AuditEntry.Outcome.OK
        and row["action"] in _OBSERVING_ACTIONS
        and (row["c2c_observed"] is not None or row["group_observed"] is not None)
    )


def _expiry(observed_at: datetime, seconds: int) -> datetime | None:
    """When a mute that had `seconds` left at `observed_at` runs out; None if none or permanent."""
    if seconds == 0 or seconds == PERMANENT:
        return None
    return observed_at + timedelta(seconds=seconds)


def _carried(
    previous: Mapping[str, Any] | None, side: str, observed_at: datetime
) -> tuple[int, datetime | None]:
    """A mute this call did not learn about: what was last seen of it, run down to `observed_at`."""
    if previous is None:
        return 0, None
    if previous[f"{side}_seconds"] == PERMANENT:
        return PERMANENT, None
    ends = previous[f"{side}_expires_at"]
    if ends is None or ends <= observed_at:
        return 0, None
    return int((ends - observed_at).total_seconds()), ends


def _observation(row: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """The AccountMuteState fields an observing row sets."""
    observed_at = row["completed_at"]
    fields: dict[str, Any] = {"observed_at": observed_at, "observed_entry_id": row["id"]}
    for side in ("c2c", "group"):
        seconds = row[f"{side}_observed"]
        if seconds is None:
            # A change that left this mute alone without asking about it first (bulk jobs).
            seconds, ends = _carried(previous, side, observed_at)
        else:
            ends = _expiry(observed_at, seconds)
        fields[f"{side}_seconds"], fields[f"{side}_expires_at"] = seconds, ends
    if PERMANENT in (fields["c2c_seconds"], fields["group_seconds"]):
        fields["active_until"] = AccountMuteState.FOREVER
    else:
        ends = (fields["c2c_expires_at"], fields["group_expires_at"])
        fields["active_until"] = max((end for end in ends if end is not None), default=None)
    return fields


def _last_change(row: Mapping[str, Any]) -> dict[str, Any]:
    """The AccountMuteState fields a successful change sets."""
    return {
        "last_change_entry_id": row["id"],
        "last_change_at": row["completed_at"],
        "last_operator": row["operator_username"],
        "last_reason": row["reason"],
        "last_rule": row.get("rule") or "",
    }


_NO_CHANGE_SEEN = {
    "last_change_entry_id": None,
    "last_change_at": None,
    "last_operator": "",
    "last_reason": "",
    "last_rule": "",
}
_STATE_FIELDS = (
    "c2c_seconds",
    "group_seconds",
    "observed_at",
    "c2c_expires_at",
    "group_expires_at",
    "active_until",
    "observed_entry_id",
    *_NO_CHANGE_SEEN,
)


def _mute_state_next(
    state: Mapping[str, Any] | None, row: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """An account's state (_STATE_FIELDS; None before anything was seen) once `row` completed.

    Applied in the order rows complete, by audit_complete and by audit_derived_rebuild alike.
    """
    if not _observes_mutes(row):
        return state
    updated = dict(state) if state is not None else dict(_NO_CHANGE_SEEN)
    # Calls can finish out of order: a query begun before a change may complete after it, and
    # what it saw is then older than what the account's state already holds.
    if state is None or row["id"] > state["observed_entry_id"]:
        updated.update(_observation(row, state))
    if (
        row["action"] == AuditEntry.Action.CHANGE
        and (updated["last_change_entry_id"] or 0) < row["id"]
    ):
        updated.update(_last_change(row))
    return updated


def mute_states_observe(rows: Sequence[Mapping[str, Any]]) -> None:
    """Bring the last seen states of the rows' accounts up to date, rows in completion order."""
    observing = [row for row in rows if _observes_mutes(row)]
    if not observing:
        return
    # Race-free: every completion holds the chain lock (chain_lock), and so does the rebuild.
    stored = _states_read({(_app(row), row["account"]) for row in observing})
    states = {key: state for key, (_, state) in stored.items()}
    for row in observing:
        key = (_app(row), row["account"])
        states[key] = _mute_state_next(states.get(key), row)
    AccountMuteState.objects.bulk_create(
        AccountMuteState(app=app, account=account, **state)
        for (app, account), state in states.items()
        if (app, account) not in stored
    )
    update_each(
        AccountMuteState,
        _STATE_FIELDS,
        [
            (*(state[name] for name in _STATE_FIELDS), stored[key][0])
            for key, state in states.items()
            if key in stored and state != stored[key][1]
        ],
    )


def _states_read(keys: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
    """The stored states of these (app, account) pairs, with their primary keys."""
    if len(keys) == 1:
        # A lone completion (every account page): one plain SELECT on the unique index.
        ((app, account),) = keys
        found = row_where(
            AccountMuteState, ("id", *_STATE_FIELDS), where={"app": app, "account": account}
        )
        return {} if found is None else {(app, account): (found.pop("id"), found)}
    by_app: dict[str, set[str]] = {}
    for app, account in keys:
        by_app.setdefault(app, set()).add(account)
    # One app's accounts at a time, so the (app, account) unique index finds them.
    wanted = functools.reduce(
        or_,
        (Q(app=app, account__in=accounts) for app, accounts in by_app.items()),
    )
    stored = {}
    for state in AccountMuteState.objects.filter(wanted).values(
        "id", "app", "account", *_STATE_FIELDS
    ):
        stored[state.pop("app"), state.pop("account")] = (state.pop("id"), state)
    return stored


@dataclass(frozen=True)
class DerivedRebuild:
    """What audit_derived_rebuild read and wrote."""

    rows: int
    hourly_counts: int
    operator_hourly_counts: int
    accounts: int


_REBUILD_FIELDS = (
    "id",
    "chain_seq",
    "created_at",
    "completed_at",
    "operator_username",
    "action",
    "account",
    "c2c_observed",
    "group_observed",
    "reason",
    "outcome",
    "app",
    "rule",
)


def _completion_order(row: Mapping[str, Any]) -> tuple[int, int]:
    # Rows complete in chain order; one completed outside the chain (never, unless tampered
    # with) goes last.
    seq = row["chain_seq"]
    return (0, seq) if seq is not None else (1, row["id"])


def audit_derived_rebuild(*, batch_size: int = REBUILD_BATCH) -> DerivedRebuild:
    """Recompute the hourly counts and account states from every completed audit row, in one pass.

    Each account's rows are replayed in the order they completed, exactly as audit_complete
    applied them. Completions wait while it runs (it holds the chain lock), so none is lost or
    counted twice.
    """
    with transaction.atomic():
        AuditHourlyCount.objects.all().delete()
        AuditOperatorHourlyCount.objects.all().delete()
        AccountMuteState.objects.all().delete()
        chain_lock()
        # One account's rows together, straight off the (account, -id) index; memory holds the
        # hourly totals, one account's rows and one batch of account states.
        rows = (
            AuditEntry.objects.exclude(outcome=AuditEntry.Outcome.PENDING)
            .order_by("account", "-id")
            .values(*_REBUILD_FIELDS)
            .iterator(chunk_size=batch_size)
        )
        counts: Counter[tuple[datetime, str, str, str]] = Counter()
        operator_counts: Counter[tuple[str, datetime, str, str, str]] = Counter()
        states: list[AccountMuteState] = []
        read = accounts = 0
        for account, account_rows in itertools.groupby(rows, key=itemgetter("account")):
            # The same UserID in several apps is several accounts.
            observing: dict[str, list[Mapping[str, Any]]] = {}
            for row in account_rows:
                read += 1
                key = (_hour(row["created_at"]), row["action"], row["outcome"], _app(row))
                counts[key] += 1
                if row["operator_username"]:
                    operator_counts[row["operator_username"], *key] += 1
                if _observes_mutes(row):
                    observing.setdefault(_app(row), []).append(row)
            for app, app_rows in observing.items():
                state = None
                for row in sorted(app_rows, key=_completion_order):
                    state = _mute_state_next(state, row)
                states.append(AccountMuteState(app=app, account=account, **state))
                accounts += 1
            if len(states) >= batch_size:
                AccountMuteState.objects.bulk_create(states)
                states.clear()
        AccountMuteState.objects.bulk_create(states)
        _hourly_tables_write(counts, operator_counts, batch_size=batch_size)
    return DerivedRebuild(
        rows=read,
        hourly_counts=len(counts),
        operator_hourly_counts=len(operator_counts),
        accounts=accounts,
    )


def _hourly_tables_write(
    counts: Counter[tuple[datetime, str, str, str]],
    operator_counts: Counter[tuple[str, datetime, str, str, str]],
    *,
    batch_size: int,
) -> None:
    AuditHourlyCount.objects.bulk_create(
        (
            AuditHourlyCount(hour=hour, action=action, outcome=outcome, app=app, count=count)
            for (hour, action, outcome, app), count in counts.items()
        ),
        batch_size=batch_size,
    )
    AuditOperatorHourlyCount.objects.bulk_create(
        (
            AuditOperatorHourlyCount(
                operator_username=operator,
                hour=hour,
                action=action,
                outcome=outcome,
                app=app,
                count=count,
            )
            for (operator, hour, action, outcome, app), count in operator_counts.items()
        ),
        batch_size=batch_size,
    )
