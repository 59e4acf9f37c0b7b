"""Who set an account's current mutes: the change in the audit log that explains what Tencent shows.

A mute is credited to the latest successful change of its kind on the account in that app when
that change, run down to now, gives what Tencent reports; otherwise it was set outside muteadmin
(another tool, Tencent's console, or a change here whose answer was lost).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.operators import operator_label
from muteadmin.audit.selectors import audit_app_condition
from muteadmin.core.sql import quoted_names, rows_as_read
from muteadmin.mutes.seen import KINDS, TOLERANCE_SECONDS, mutes_agree, run_down
from muteadmin.mutes.selectors import AccountHistory
from muteadmin.tencent.nospeaking import PERMANENT, MuteStatus
from muteadmin.upstream.registry import DEFAULT_APP

SETTER_FIELDS = (
    "id",
    "created_at",
    "completed_at",
    "operator_username",
    "reason",
    "c2c_requested",
    "group_requested",
)


@dataclass(frozen=True)
class MuteSetter:
    """The change that set a mute: its audit row, who made it, when and why."""

    entry_id: int
    operator: str
    at: datetime
    reason: str

    @property
    def operator_label(self) -> str:
        """Who made it as pages say it: the scheduler named in the reader's language."""
        return operator_label(self.operator)


def mute_setters(
    *,
    account: str,
    seconds: Mapping[str, int],
    at: datetime,
    app: str = DEFAULT_APP,
    history: AccountHistory | None = None,
) -> dict[str, MuteSetter | None]:
    """For each kind muted in `seconds` (seconds left at `at`), its setter, or None if outside.

    Kinds not muted are left out. One statement, and none when nothing is muted or when the
    account's `history`, read for its page already, holds the changes: the account page asks
    on every visit (bench/README.md, the account page).
    """
    muted = [kind for kind in KINDS if seconds.get(kind, 0) > 0]
    if not muted:
        return {}
    latest = history.latest_changes(muted) if history is not None else None
    if latest is None:
        latest = _latest_changes(account=account, app=app, kinds=muted)
    setters: dict[str, MuteSetter | None] = {}
    for kind in muted:
        change = latest.get(kind)
        explains = change is not None and _explains(
            requested=change[f"{kind}_requested"],
            sent_between=(change["created_at"], change["completed_at"]),
            observed=seconds[kind],
            at=at,
        )
        setters[kind] = _setter(change) if explains else None
    return setters


def mute_status_setters(
    *, status: MuteStatus, app: str = DEFAULT_APP, history: AccountHistory | None = None
) -> dict[str, MuteSetter | None]:
    """mute_setters for the mutes of a status Tencent returned."""
    seconds = {kind: getattr(status, f"{kind}_seconds") for kind in KINDS}
    return mute_setters(
        account=status.account, seconds=seconds, at=status.observed_at, app=app, history=history
    )


def mute_lifters(
    *, account: str, kinds: list[str], since: datetime, app: str = DEFAULT_APP
) -> dict[str, MuteSetter | None]:
    """For each of `kinds`, the change here that lifted it at or after `since`, else None.

    Read only when a change is refused because a mute moved, to say who lifted it.
    """
    latest = _latest_changes(account=account, app=app, kinds=kinds) if kinds else {}
    earliest = since - timedelta(seconds=TOLERANCE_SECONDS)
    lifters: dict[str, MuteSetter | None] = {}
    for kind in kinds:
        change = latest.get(kind)
        lifted = change is not None and change[f"{kind}_requested"] == 0
        lifters[kind] = _setter(change) if lifted and change["created_at"] >= earliest else None
    return lifters


def _setter(change: Mapping[str, Any]) -> MuteSetter:
    return MuteSetter(
        entry_id=change["id"],
        operator=change["operator_username"],
        at=change["created_at"],
        reason=change["reason"],
    )


def _explains(
    *, requested: int, sent_between: tuple[datetime, datetime], observed: int, at: datetime
) -> bool:
    """Whether a change asking for `requested` seconds, applied by Tencent at some moment between
    its row's two times, leaves `observed` seconds at `at`."""
    if requested == 0:
        return False
    if requested == PERMANENT:
        return observed == PERMANENT
    begun, completed = sent_between
    # Run down from the later moment the change could have been applied, with the slack of the
    # call's own duration for an earlier one.
    latest = run_down(requested, elapsed=max((at - completed).total_seconds(), 0.0))
    window = max((completed - begun).total_seconds(), 0.0)
    return mutes_agree(observed=observed, expected=latest, slack=window)


def _latest_changes(*, account: str, app: str, kinds: list[str]) -> dict[str, dict[str, Any]]:
    """The latest successful change of each kind on `account` in `app`, as read by the ORM.

    Written out, not built by the ORM, like mute_recent_changes: each kind's newest row is found
    walking the account's index (audit_account_recent) newest first, one LIMIT 1 branch a kind.
    The outcomes are ok, error and pending, so "not error nor pending" is "ok".
    """
    connection, table, column = quoted_names(AuditEntry)
    in_app, app_params = audit_app_condition(app, column=column("app"))
    selected = ", ".join(column(name) for name in SETTER_FIELDS)
    branches = []
    params: list[Any] = []
    # Only the account's own entries are walked: `action || ''` and `outcome NOT IN` keep the
    # planner (SQLite's, which has no statistics) off the action and outcome indexes, whose
    # entries for every other account it would walk first. On SQLite the account's index also
    # holds the action, so its many query rows are passed over without reading the table.
    outcome_not_ok = [AuditEntry.Outcome.PENDING.value, AuditEntry.Outcome.ERROR.value]
    for kind in kinds:
        # Only quoted names from the model and a kind from KINDS are formatted in; every value
        # is a parameter.
        branches.append(
            f"SELECT '{kind}', {selected} FROM (SELECT {selected} FROM {table}"  # noqa: S608
            f" WHERE {column('account')} = %s AND {column('action')} || '' = %s"
            f" AND {column('outcome')} NOT IN (%s, %s)"
            f" AND {column(f'{kind}_requested')} IS NOT NULL"
            f" AND {in_app} ORDER BY {column('id')} DESC LIMIT 1) AS latest_{kind}"
        )
        params += [account, AuditEntry.Action.CHANGE.value, *outcome_not_ok, *app_params]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches), params)
        rows = cursor.fetchall()
    read = rows_as_read(AuditEntry, SETTER_FIELDS, [row[1:] for row in rows], connection=connection)
    return {row[0]: values for row, values in zip(rows, read, strict=True)}
