"""Reading the mute report: accounts whose last seen state is muted, from AccountMuteState alone."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import QuerySet

from muteadmin.audit.models import AccountMuteState
from muteadmin.tencent.nospeaking import PERMANENT

# A mute's state as the report names it (the CSV's c2c_state and group_state).
MUTED = "muted"
PERMANENT_STATE = "permanent"
NONE = "none"

# Names in the query string that filter the report, in the order a shared URL lists them.
FILTER_NAMES = ("operator", "since", "until", "include_expired")

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
)

PAGE_SIZE = 50
EXPORT_BATCH_SIZE = 1000

_COLUMNS = (
    "id",
    "account",
    "c2c_seconds",
    "group_seconds",
    "observed_at",
    "active_until",
    "last_change_at",
    "last_operator",
    "last_reason",
)


class CursorError(ValueError):
    """A page link whose cursor cannot be read."""


@dataclass(frozen=True)
class MuteReportFilters:
    """Which accounts to list; empty fields mean "any", times are aware and in UTC."""

    operator: str = ""
    since: datetime | None = None  # inclusive, on the last change
    until: datetime | None = None  # exclusive, on the last change
    include_expired: bool = False
    query_string: dict[str, list[str]] = field(default_factory=dict, compare=False)

    def as_details(self) -> dict[str, list[str]]:
        """The filters as typed, for an export's audit row."""
        return {name: values for name, values in self.query_string.items() if values}


@dataclass(frozen=True)
class ReportCursor:
    """A position in the report's order (end of the later mute, then row id)."""

    active_until: datetime
    id: int

    def encode(self) -> str:
        micros = (self.active_until - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}.{self.id}"

    @classmethod
    def decode(cls, text: str) -> "ReportCursor":
        try:
            micros, _, row_id = text.partition(".")
            return cls(active_until=_EPOCH + timedelta(microseconds=int(micros)), id=int(row_id))
        except (ValueError, OverflowError):
            raise CursorError(text) from None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class MuteReportRow:
    """One account as the report shows it, with each mute's state computed for `now`."""

    account: str
    c2c_state: str
    c2c_expires_at: datetime | None
    group_state: str
    group_expires_at: datetime | None
    last_change_at: datetime | None
    last_operator: str
    last_reason: str
    observed_at: datetime
    cursor: ReportCursor

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
        )


@dataclass(frozen=True)
class MuteReportPage:
    """One page of the report and the cursors to its neighbours (None where there is none)."""

    rows: list[MuteReportRow]
    next_cursor: ReportCursor | None
    previous_cursor: ReportCursor | None


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
    if filters.since is not None:
        states = states.filter(last_change_at__gte=filters.since)
    if filters.until is not None:
        states = states.filter(last_change_at__lt=filters.until)
    return states.order_by("active_until", "id")


def mute_report_page(
    *,
    filters: MuteReportFilters,
    now: datetime,
    after: ReportCursor | None = None,
    before: ReportCursor | None = None,
    size: int = PAGE_SIZE,
) -> MuteReportPage:
    """The page after `after` (or before `before`, or the first), read by cursor, never counted."""
    states = mute_report_filtered(filters=filters, now=now)
    if before is not None:
        # Walk backwards from the cursor, then put the page back in reading order.
        found = list(_before(states, before).reverse().values_list(*_COLUMNS)[: size + 1])
        more_before = len(found) > size
        rows = [_row(values, now=now) for values in reversed(found[:size])]
        return MuteReportPage(
            rows=rows,
            next_cursor=rows[-1].cursor if rows else before,
            previous_cursor=rows[0].cursor if rows and more_before else None,
        )
    if after is not None:
        states = _after(states, after)
    found = list(states.values_list(*_COLUMNS)[: size + 1])
    rows = [_row(values, now=now) for values in found[:size]]
    return MuteReportPage(
        rows=rows,
        next_cursor=rows[-1].cursor if len(found) > size else None,
        previous_cursor=rows[0].cursor if rows and after is not None else None,
    )


def mute_report_rows(
    *, filters: MuteReportFilters, now: datetime, batch_size: int = EXPORT_BATCH_SIZE
) -> Iterator[MuteReportRow]:
    """Every matching row in report order, read in batches by cursor so memory stays flat."""
    states = mute_report_filtered(filters=filters, now=now)
    cursor = None
    while True:
        batch = states if cursor is None else _after(states, cursor)
        found = list(batch.values_list(*_COLUMNS)[:batch_size])
        for values in found:
            row = _row(values, now=now)
            yield row
        if len(found) < batch_size:
            return
        cursor = row.cursor


def _after(states: QuerySet, cursor: ReportCursor) -> QuerySet:
    # ">= then exclude the tie" keeps a plain range scan on the active_until index.
    return states.filter(active_until__gte=cursor.active_until).exclude(
        active_until=cursor.active_until, id__lte=cursor.id
    )


def _before(states: QuerySet, cursor: ReportCursor) -> QuerySet:
    return states.filter(active_until__lte=cursor.active_until).exclude(
        active_until=cursor.active_until, id__gte=cursor.id
    )


def _row(values: tuple, *, now: datetime) -> MuteReportRow:
    state = dict(zip(_COLUMNS, values, strict=True))
    c2c_state, c2c_expires_at = mute_state_at(
        seconds=state["c2c_seconds"], observed_at=state["observed_at"], now=now
    )
    group_state, group_expires_at = mute_state_at(
        seconds=state["group_seconds"], observed_at=state["observed_at"], now=now
    )
    return MuteReportRow(
        account=state["account"],
        c2c_state=c2c_state,
        c2c_expires_at=c2c_expires_at,
        group_state=group_state,
        group_expires_at=group_expires_at,
        last_change_at=state["last_change_at"],
        last_operator=state["last_operator"],
        last_reason=state["last_reason"],
        observed_at=state["observed_at"],
        cursor=ReportCursor(active_until=state["active_until"], id=state["id"]),
    )
