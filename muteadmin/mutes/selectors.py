"""What the account page reads besides Tencent: the account's recent changes from the audit log."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.selectors import audit_app_condition
from muteadmin.core.sql import Read, Statement, quoted_names, rows_as_read
from muteadmin.upstream.registry import DEFAULT_APP

RECENT_CHANGES = 10
# What the page shows of each change.
RECENT_CHANGE_FIELDS = (
    "created_at",
    "operator_username",
    "c2c_requested",
    "group_requested",
    "reason",
    "outcome",
    "error_code",
)


def mute_recent_changes(
    *, account: str, app: str = DEFAULT_APP, limit: int = RECENT_CHANGES
) -> list[dict[str, Any]]:
    """The latest change attempts on `account` in `app`, newest first: who, what, why, outcome.

    Written out, not built by the ORM: every account page reads it, and the ORM's query costs
    more to build than this costs to run (bench/README.md, the account page).
    """
    connection, table, column = quoted_names(AuditEntry)
    in_app, app_params = audit_app_condition(app, column=column("app"))
    # Only quoted names from the model are formatted in; every value is a parameter.
    sql = (
        f"SELECT {', '.join(column(name) for name in RECENT_CHANGE_FIELDS)}"  # noqa: S608
        f" FROM {table} WHERE {column('account')} = %s AND {column('action')} = %s"
        f" AND {in_app} ORDER BY {column('id')} DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [account, AuditEntry.Action.CHANGE.value, *app_params, limit])
        rows = cursor.fetchall()
    return rows_as_read(AuditEntry, RECENT_CHANGE_FIELDS, rows, connection=connection)


def notice_sent_for(*, correlation_id: uuid.UUID) -> bool:
    """Whether a notice went out for the change with this correlation id."""
    return AuditEntry.objects.filter(
        correlation_id=correlation_id,
        action=AuditEntry.Action.NOTICE,
        outcome=AuditEntry.Outcome.OK,
    ).exists()


# The timeline reads at most this many of the account's steps (changes, requests, notices,
# notes) and this many of its lookups, newest first; lookups are drawn collapsed.
TIMELINE_EVENTS = 20
TIMELINE_LOOKUPS = 60
# What the timeline shows of each row.
TIMELINE_FIELDS = (
    "id",
    "created_at",
    # Read for who set the current mutes (mutes/setters.py), from the same rows.
    "completed_at",
    "operator_username",
    "on_behalf_of",
    "action",
    "c2c_requested",
    "group_requested",
    "reason",
    "outcome",
    "error_code",
    # What a drift found (the reconcile's drift rows ask for nothing, so say it here).
    "error_info",
)
LOOKUP_ACTION = AuditEntry.Action.QUERY.value


def timeline_actions() -> tuple[str, ...]:
    """The actions the timeline lists besides lookups (`notice` once the audit log has it)."""
    wanted = ("change", "request_filed", "request_approved", "request_rejected")
    wanted += ("request_expired", "notice", "note", "scheduled", "drift")
    known = set(AuditEntry.Action.values)
    return tuple(action for action in wanted if action in known)


def mute_timeline_read(
    *,
    account: str,
    app: str = DEFAULT_APP,
    events: int = TIMELINE_EVENTS,
    lookups: int = TIMELINE_LOOKUPS,
) -> Read[list[dict[str, Any]]]:
    """The account's latest steps in `app` and its latest lookups, newest first: one query.

    Each half is limited on its own, both walking the (account, -id) index, so a flood of
    lookups never pushes the changes out. Written out like mute_recent_changes, for speed.
    Run by core.sql.reads_run, with the page's other reads.
    """
    connection, table, column = quoted_names(AuditEntry)
    in_app, app_params = audit_app_condition(app, column=column("app"))
    actions = timeline_actions()
    fields = ", ".join(column(name) for name in TIMELINE_FIELDS)
    base = f"SELECT {fields} FROM {table} WHERE {column('account')} = %s"  # noqa: S608
    order = f"ORDER BY {column('id')} DESC LIMIT %s"
    steps = f"{base} AND {column('action')} IN ({', '.join(['%s'] * len(actions))})"
    # Only quoted names from the model are formatted in; every value is a parameter.
    sql = (
        f"SELECT * FROM ({steps} AND {in_app} {order}) AS steps UNION ALL "  # noqa: S608
        f"SELECT * FROM ({base} AND {column('action')} = %s AND {in_app} {order}) AS lookups"
    )
    params = [account, *actions, *app_params, events, account, LOOKUP_ACTION, *app_params]

    def result(rows: list[tuple]) -> list[dict[str, Any]]:
        read = rows_as_read(AuditEntry, TIMELINE_FIELDS, rows, connection=connection)
        read.sort(key=lambda row: row["id"], reverse=True)
        return read

    return Read(Statement(sql, [*params, lookups]), result, using=connection.alias)


@dataclass(frozen=True)
class AccountHistory:
    """The account's timeline rows (mute_timeline_read), and what else its page reads from them.

    The page lists the latest changes and credits the current mutes to the changes that set
    them; all of those are among the timeline's steps unless the steps were cut short, and only
    then are they read on their own.
    """

    account: str
    app: str
    rows: list[dict[str, Any]]
    steps_cut: bool

    def _changes(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if row["action"] == AuditEntry.Action.CHANGE]

    def recent_changes(self, *, limit: int = RECENT_CHANGES) -> list[dict[str, Any]]:
        """As mute_recent_changes."""
        changes = self._changes()
        if len(changes) >= limit or not self.steps_cut:
            return changes[:limit]
        return mute_recent_changes(account=self.account, app=self.app, limit=limit)

    def latest_changes(self, kinds: Sequence[str]) -> dict[str, dict[str, Any]] | None:
        """The latest successful change setting each of `kinds`; None when they must be read."""
        found: dict[str, dict[str, Any]] = {}
        for row in self._changes():
            if row["outcome"] != AuditEntry.Outcome.OK:
                continue
            for kind in kinds:
                if kind not in found and row[f"{kind}_requested"] is not None:
                    found[kind] = row
        if self.steps_cut and len(found) < len(kinds):
            return None
        return found


def account_history_read(*, account: str, app: str = DEFAULT_APP) -> Read[AccountHistory]:
    """The account's latest steps and lookups (mute_timeline_read), read once for its page."""
    timeline = mute_timeline_read(account=account, app=app)

    def result(rows: list[tuple]) -> AccountHistory:
        read = timeline.result(rows)
        steps = sum(1 for row in read if row["action"] != LOOKUP_ACTION)
        return AccountHistory(
            account=account, app=app, rows=read, steps_cut=steps >= TIMELINE_EVENTS
        )

    return Read(timeline.statement, result, using=timeline.using)
