"""The tables derived from the audit log, kept up to date as rows complete, or rebuilt whole.

AuditHourlyCount and AuditOperatorHourlyCount feed the audit page's chart; AccountMuteState
feeds the mute report. Completions update them inside their own transaction, under the chain
lock, so none is lost or counted twice. All three are kept per app; a row written before apps
had names (app null) counts for the default app.
"""

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

from django.db import connections, models, transaction

from muteadmin.audit.chain import chain_lock
from muteadmin.audit.models import (
    AccountMuteState,
    AuditEntry,
    AuditHourlyCount,
    AuditOperatorHourlyCount,
)
from muteadmin.core.sql import (
    Statement,
    StatementResult,
    counter_statement,
    rows_as_read,
    update_statements,
)
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


def _hourly_counters(
    rows: Sequence[Mapping[str, Any]],
) -> list[tuple[type[models.Model], dict[str, Any], int]]:
    """What completed rows add to the hourly tables: (table, key, count) per hour and kind."""
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
    return [(model, dict(key), count) for (model, key), count in counted.items()]


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


_STATE_READ = ("id", "app", "account", *_STATE_FIELDS)


def _states_statement(keys: set[tuple[str, str]], *, using: str) -> Statement:
    """The stored states (_STATE_READ) of these (app, account) pairs."""
    by_app: dict[str, list[str]] = {}
    for app, account in sorted(keys):
        by_app.setdefault(app, []).append(account)
    connection = connections[using]
    meta = AccountMuteState._meta
    qn = connection.ops.quote_name
    app_column, account_column = (
        qn(meta.get_field("app").column),
        qn(meta.get_field("account").column),
    )
    # One app's accounts at a time, so the (app, account) unique index finds them.
    matches = " OR ".join(
        f"({app_column} = %s AND {account_column} IN ({', '.join(['%s'] * len(accounts))}))"
        for accounts in by_app.values()
    )
    selected = ", ".join(qn(meta.get_field(name).column) for name in _STATE_READ)
    # Only quoted names from the model are formatted in; every value is a parameter.
    sql = f"SELECT {selected} FROM {qn(meta.db_table)} WHERE {matches}"  # noqa: S608
    return Statement(sql, [value for app, accounts in by_app.items() for value in (app, *accounts)])


class DerivedWrites:
    """What rows completing together change in the hourly counts and the accounts' states.

    Taken in three steps around the chain's seal, all under the chain lock, so that each shares a
    round trip with the chain's own statements (statements_run): `reads()` the stored states of the
    rows' accounts, read with the chain's head; `writes(read)` the UPDATEs, run with the seal's;
    `finish(written)` INSERTs the counts and states those UPDATEs found missing. Race-free without
    an upsert: every completion holds the chain lock (chain_lock), and so does the rebuild.
    """

    def __init__(self, rows: Sequence[Mapping[str, Any]], *, using: str) -> None:
        """`rows`: the completed rows (HASHED_FIELDS and their outcome), in completion order."""
        self.using = using
        self.observing = [row for row in rows if _observes_mutes(row)]
        self.counters = _hourly_counters(rows)
        self.new_states: list[AccountMuteState] = []

    def reads(self) -> list[Statement]:
        if not self.observing:
            return []
        keys = {(_app(row), row["account"]) for row in self.observing}
        return [_states_statement(keys, using=self.using)]

    def writes(self, read: Sequence[StatementResult]) -> list[Statement]:
        counts = [
            counter_statement(model, where=key, field="count", amount=count, using=self.using)
            for model, key, count in self.counters
        ]
        return [*counts, *self._state_updates(read[0].rows if read else [])]

    def _state_updates(self, stored_rows: Sequence[tuple]) -> list[Statement]:
        """The states once the observing rows applied, in order: UPDATEs; the new ones kept."""
        stored = {}
        connection = connections[self.using]
        for state in rows_as_read(
            AccountMuteState, _STATE_READ, stored_rows, connection=connection
        ):
            stored[state.pop("app"), state.pop("account")] = (state.pop("id"), state)
        states = {key: state for key, (_, state) in stored.items()}
        for row in self.observing:
            key = (_app(row), row["account"])
            states[key] = _mute_state_next(states.get(key), row)
        self.new_states = [
            AccountMuteState(app=app, account=account, **state)
            for (app, account), state in states.items()
            if (app, account) not in stored
        ]
        return update_statements(
            AccountMuteState,
            _STATE_FIELDS,
            [
                (*(state[name] for name in _STATE_FIELDS), stored[key][0])
                for key, state in states.items()
                if key in stored and state != stored[key][1]
            ],
            using=self.using,
        )

    def finish(self, written: Sequence[StatementResult]) -> None:
        """INSERT what writes()' UPDATEs found missing; `written` is what they returned."""
        for (model, key, count), result in zip(self.counters, written, strict=False):
            if not result.rowcount:
                model.objects.using(self.using).create(**key, count=count)
        AccountMuteState.objects.using(self.using).bulk_create(self.new_states)


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
