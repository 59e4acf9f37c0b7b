"""Reading the mute report: accounts whose last seen state is muted, from AccountMuteState alone."""

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.db.models import QuerySet

from muteadmin.audit.models import AccountMuteState, AuditEntry
from muteadmin.core.pagination import Keyset
from muteadmin.reconcile.selectors import drifts_latest
from muteadmin.tencent.nospeaking import PERMANENT
from muteadmin.upstream.registry import DEFAULT_APP

# A mute's state as the report names it (the CSV's c2c_state and group_state).
MUTED = "muted"
PERMANENT_STATE = "permanent"
NONE = "none"

# Names in the query string that filter the report, in the order a shared URL lists them.
FILTER_NAMES = ("operator", "since", "until", "include_expired", "app", "rule")

CSV_HEADER = (
    "account",
    "c2c_state",
    "c2c_expires_at",
    "group_state",
    "group_expires_at",
    "last_change_at",
    "last_operator",
    "last_reason",
    "observed_at",
    # Added later, so last: the policy rule the last change was made under.
    "rule",
)

PAGE_SIZE = 50
EXPORT_BATCH_SIZE = 1000

_COLUMNS = (
    "id",
    "app",
    "account",
    "c2c_seconds",
    "group_seconds",
    "observed_at",
    "active_until",
    "last_change_at",
    "last_operator",
    "last_reason",
    "last_rule",
)


@dataclass(frozen=True)
class MuteReportFilters:
    """Which accounts to list; empty fields mean "any", times are aware and in UTC."""

    operator: str = ""
    since: datetime | None = None  # inclusive, on the last change
    until: datetime | None = None  # exclusive, on the last change
    include_expired: bool = False
    app: str = ""  # an app's name; every app's accounts when empty
    rule: str = ""  # a policy rule's code, on the last change
    query_string: dict[str, list[str]] = field(default_factory=dict, compare=False)

    def as_details(self) -> dict[str, list[str]]:
        """The filters as typed, for an export's audit row."""
        return {name: values for name, values in self.query_string.items() if values}


# Soonest-ending first (permanent mutes last), ties in the order the states were written.
REPORT_KEYSET = Keyset(("active_until", datetime), ("id", int))


@dataclass(frozen=True)
class MuteReportRow:
    """One account as the report shows it, with each mute's state computed for `now`.

    The CSV's columns are CSV_HEADER's; `app` is shown on the page when several apps are set up.
    """

    app: str
    account: str
    c2c_state: str
    c2c_expires_at: datetime | None
    group_state: str
    group_expires_at: datetime | None
    last_change_at: datetime | None
    last_operator: str
    last_reason: str
    observed_at: datetime
    last_rule: str = ""
    # A change attempted after the last change seen that the sweeper completed as "outcome
    # unknown" (a crash hid whether it reached Tencent): when it was begun. Not in the CSV.
    unknown_change_at: datetime | None = None
    # The latest drift the reconcile noticed since the last change here (a mute set, lifted or
    # changed outside muteadmin): when, and its audit row. Not in the CSV.
    drift_noticed_at: datetime | None = None
    drift_entry_id: int | None = None

    def csv_values(self) -> tuple:
        """The row in CSV_HEADER's order."""
        return (
            self.account,
            self.c2c_state,
            self.c2c_expires_at,
            self.group_state,
            self.group_expires_at,
            self.last_change_at,
            self.last_operator,
            self.last_reason,
            self.observed_at,
            self.last_rule,
        )


@dataclass(frozen=True)
class MuteReportPage:
    """One page of the report and the cursors to its neighbours (None where there is none)."""

    rows: list[MuteReportRow]
    next_cursor: str | None
    previous_cursor: str | None


def mute_state_at(
    *, seconds: int, observed_at: datetime, now: datetime
) -> tuple[str, datetime | None]:
    """A mute's state at `now` and when it ends, from the seconds left when it was observed.

    A mute that has run out since reads "none" but keeps its end, so a reader sees when it ended.
    """
    if seconds == PERMANENT:
        return PERMANENT_STATE, None
    if seconds <= 0:
        return NONE, None
    expires_at = observed_at + timedelta(seconds=seconds)
    return (MUTED if expires_at > now else NONE), expires_at


def mute_report_filtered(*, filters: MuteReportFilters, now: datetime) -> QuerySet:
    """States matching `filters`, soonest-ending first (permanent mutes last)."""
    # active_until is null once both mutes were seen lifted, so those accounts never appear.
    states = AccountMuteState.objects.filter(active_until__isnull=False)
    if not filters.include_expired:
        states = states.filter(active_until__gt=now)
    if filters.operator:
        states = states.filter(last_operator=filters.operator)
    if filters.app:
        states = states.filter(app=filters.app)
    if filters.rule:
        states = states.filter(last_rule=filters.rule)
    if filters.since is not None:
        states = states.filter(last_change_at__gte=filters.since)
    if filters.until is not None:
        states = states.filter(last_change_at__lt=filters.until)
    return states.order_by("active_until", "id")


def mute_report_page(
    *,
    filters: MuteReportFilters,
    now: datetime,
    after: str | None = None,
    before: str | None = None,
    size: int = PAGE_SIZE,
) -> MuteReportPage:
    """The page after cursor `after` (or before `before`, or the first), never counted.

    Raises CursorError for a cursor the report did not write.
    """
    page = REPORT_KEYSET.page(
        mute_report_filtered(filters=filters, now=now).values(*_COLUMNS),
        after=REPORT_KEYSET.decode(after) if after else None,
        before=REPORT_KEYSET.decode(before) if before else None,
        size=size,
    )
    return MuteReportPage(
        rows=_drifts_marked(
            _unknown_changes_marked([_row(values, now=now) for values in page.rows])
        ),
        next_cursor=page.next_cursor,
        previous_cursor=page.previous_cursor,
    )


def mute_report_rows(
    *, filters: MuteReportFilters, now: datetime, batch_size: int = EXPORT_BATCH_SIZE
) -> Iterator[MuteReportRow]:
    """Every matching row in report order, read in batches by cursor so memory stays flat."""
    states = mute_report_filtered(filters=filters, now=now).values(*_COLUMNS)
    cursor = None
    while True:
        page = REPORT_KEYSET.page(
            states, after=REPORT_KEYSET.decode(cursor) if cursor else None, size=batch_size
        )
        for values in page.rows:
            yield _row(values, now=now)
        if not page.has_next:
            return
        cursor = page.next_cursor


def _unknown_changes_marked(rows: list[MuteReportRow]) -> list[MuteReportRow]:
    """The rows, each with the latest change of unknown outcome since its last change seen.

    One query for the page; such rows are rare, and the outcome index finds them.
    """
    if not rows:
        return rows
    unknown = AuditEntry.objects.filter(
        action=AuditEntry.Action.CHANGE,
        outcome=AuditEntry.Outcome.UNKNOWN,
        account__in={row.account for row in rows},
    ).values_list("app", "account", "created_at")
    latest: dict[tuple[str, str], datetime] = {}
    for app, account, created_at in unknown:
        key = (app or DEFAULT_APP, account)
        latest[key] = max(created_at, latest.get(key, created_at))
    marked = []
    for row in rows:
        at = latest.get((row.app, row.account))
        if at is not None and (row.last_change_at is None or at > row.last_change_at):
            row = replace(row, unknown_change_at=at)
        marked.append(row)
    return marked


def _drifts_marked(rows: list[MuteReportRow]) -> list[MuteReportRow]:
    """The rows, each with the latest drift noticed since its last change here: one query."""
    latest = drifts_latest((row.app, row.account) for row in rows)
    marked = []
    for row in rows:
        mark = latest.get((row.app, row.account))
        if mark is not None and (
            row.last_change_at is None or mark.noticed_at > row.last_change_at
        ):
            row = replace(row, drift_noticed_at=mark.noticed_at, drift_entry_id=mark.entry_id)
        marked.append(row)
    return marked


def _row(state: dict, *, now: datetime) -> MuteReportRow:
    c2c_state, c2c_expires_at = mute_state_at(
        seconds=state["c2c_seconds"], observed_at=state["observed_at"], now=now
    )
    group_state, group_expires_at = mute_state_at(
        seconds=state["group_seconds"], observed_at=state["observed_at"], now=now
    )
    return MuteReportRow(
        app=state["app"],
        account=state["account"],
        c2c_state=c2c_state,
        c2c_expires_at=c2c_expires_at,
        group_state=group_state,
        group_expires_at=group_expires_at,
        last_change_at=state["last_change_at"],
        last_operator=state["last_operator"],
        last_reason=state["last_reason"],
        observed_at=state["observed_at"],
        last_rule=state["last_rule"],
    )
