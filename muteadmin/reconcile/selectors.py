"""What the reconcile reads: the accounts to check, the last run, and the drifts noticed."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connections

from muteadmin.audit.models import AccountMuteState, AuditEntry
from muteadmin.audit.selectors import audit_app_condition
from muteadmin.core.sql import Read, Statement, rows_as_read, table_column
from muteadmin.reconcile.drift import RECONCILE_OPERATOR
from muteadmin.reconcile.models import ReconcileRun, WatchedAccount
from muteadmin.upstream.registry import DEFAULT_APP

# Accounts changed here this recently are checked every run, muted or not.
CHANGED_WITHIN = timedelta(days=7)
# What an expectation is read from: the account's last seen state.
STATE_FIELDS = (
    "account",
    "c2c_seconds",
    "group_seconds",
    "c2c_expires_at",
    "group_expires_at",
    "observed_entry_id",
    "last_change_entry_id",
)
# What the account page shows of a drift.
_DRIFT_FIELDS = ("id", "created_at", "details", "error_info")


def reconcile_accounts(*, app: str, now: datetime) -> list[str]:
    """The accounts of `app` a run checks: muted by the report, changed lately, or watched."""
    states = AccountMuteState.objects.filter(app=app)
    muted = states.filter(active_until__gt=now).values_list("account", flat=True)
    changed = states.filter(last_change_at__gte=now - CHANGED_WITHIN).values_list(
        "account", flat=True
    )
    watched = WatchedAccount.objects.filter(app=app).values_list("account", flat=True)
    return sorted({*muted, *changed, *watched})


def expectations_read(*, app: str, accounts: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The last seen states of these accounts of `app`, by account (none for an unseen one)."""
    rows = AccountMuteState.objects.filter(app=app, account__in=list(accounts)).values(
        *STATE_FIELDS
    )
    return {row.pop("account"): row for row in rows}


def changes_in_flight(*, app: str, accounts: Iterable[str]) -> set[str]:
    """Accounts with a change here still pending: Tencent may already show what it set."""
    rows = AuditEntry.objects.filter(
        action=AuditEntry.Action.CHANGE,
        outcome=AuditEntry.Outcome.PENDING,
        account__in=list(accounts),
    ).values_list("app", "account")
    return {account for row_app, account in rows if (row_app or DEFAULT_APP) == app}


def reconcile_latest() -> ReconcileRun | None:
    """The latest run, running or over."""
    return ReconcileRun.objects.order_by("-started_at", "-id").first()


def reconcile_last_finished() -> ReconcileRun | None:
    """The latest run that went through to the end."""
    return (
        ReconcileRun.objects.filter(state=ReconcileRun.State.FINISHED)
        .order_by("-started_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class DriftMark:
    """The latest drift noticed on an account: when, which kinds, and its audit row."""

    noticed_at: datetime
    kinds: tuple[str, ...]
    entry_id: int
    sentence: str


def drifts_latest(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], DriftMark]:
    """The latest drift the reconcile noticed on each (app, account): one query.

    A skipped scheduled change's drift row is left out: the change it met may have been made here.
    """
    keys = set(keys)
    if not keys:
        return {}
    rows = (
        AuditEntry.objects.filter(
            action=AuditEntry.Action.DRIFT,
            outcome=AuditEntry.Outcome.OK,
            operator_username=RECONCILE_OPERATOR.name,
            account__in={account for _, account in keys},
        )
        .order_by("id")
        .values_list("id", "app", "account", "created_at", "details", "error_info")
    )
    latest: dict[tuple[str, str], DriftMark] = {}
    for entry_id, app, account, created_at, details, reason in rows:
        key = (app or DEFAULT_APP, account)
        if key in keys:
            kinds = (details or {}).get("kinds", [])
            latest[key] = DriftMark(
                noticed_at=created_at, kinds=tuple(kinds), entry_id=entry_id, sentence=reason
            )
    return latest


def drift_since_change_read(*, app: str, account: str) -> Read[DriftMark | None]:
    """The account's latest drift, unless a change made here since has superseded it.

    One statement on every visit to the account page (run by core.sql.reads_run with the page's
    other reads): its latest drift row (the (account, -id) index) with the account's last change
    here beside it. Written out, not built by the ORM, whose query costs more to build than to
    run (bench/README.md, the account page).
    """
    connection = connections[AuditEntry.objects.db]
    qn = connection.ops.quote_name
    entries, states = AuditEntry._meta, AccountMuteState._meta

    def column(meta: Any, name: str) -> str:
        return table_column(connection, meta, name)

    in_app, app_params = audit_app_condition(app, column=column(entries, "app"))
    # Only quoted names from the models are formatted in; every value is a parameter.
    sql = (
        f"SELECT {', '.join(column(entries, name) for name in _DRIFT_FIELDS)},"  # noqa: S608
        f" (SELECT {column(states, 'last_change_at')} FROM {qn(states.db_table)}"
        f" WHERE {column(states, 'app')} = %s AND {column(states, 'account')} = %s)"
        f" FROM {qn(entries.db_table)} WHERE {column(entries, 'account')} = %s"
        f" AND {column(entries, 'action')} = %s AND {column(entries, 'outcome')} = %s"
        f" AND {column(entries, 'operator_username')} = %s AND {in_app}"
        f" ORDER BY {column(entries, 'id')} DESC LIMIT 1"
    )
    params = [app, account, account, AuditEntry.Action.DRIFT.value, AuditEntry.Outcome.OK.value]

    def result(rows: list[tuple]) -> DriftMark | None:
        if not rows:
            return None
        (stored,) = rows
        (read,) = rows_as_read(AuditEntry, _DRIFT_FIELDS, [stored[:-1]], connection=connection)
        (state,) = rows_as_read(
            AccountMuteState, ["last_change_at"], [stored[-1:]], connection=connection
        )
        changed_at, noticed_at = state["last_change_at"], read["created_at"]
        if changed_at is not None and changed_at > noticed_at:
            return None
        kinds = tuple((read["details"] or {}).get("kinds", []))
        return DriftMark(
            noticed_at=noticed_at, kinds=kinds, entry_id=read["id"], sentence=read["error_info"]
        )

    statement = Statement(sql, [*params, RECONCILE_OPERATOR.name, *app_params])
    return Read(statement, result, using=connection.alias)
