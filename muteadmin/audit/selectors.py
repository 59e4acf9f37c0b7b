"""Reading the audit log: the filtered rows every page, export and report starts from."""

import uuid
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Expression, F, IntegerField, Max, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy

from muteadmin.audit.filters import AuditFilters
from muteadmin.audit.models import AuditEntry, AuditHourlyCount, AuditOperatorHourlyCount
from muteadmin.core.pagination import CursorError, Keyset, KeysetPage
from muteadmin.upstream.registry import DEFAULT_APP


def audit_filtered(*, filters: AuditFilters) -> QuerySet[AuditEntry]:
    """Rows matching `filters`, newest first (the order they were written)."""
    rows = AuditEntry.objects.all()
    if filters.account:
        rows = rows.filter(account=filters.account)
    if filters.operator:
        rows = rows.filter(operator_username=filters.operator)
    if filters.actions:
        rows = rows.filter(action__in=filters.actions)
    if filters.outcome:
        rows = rows.filter(outcome=filters.outcome)
    if filters.job is not None:
        rows = rows.filter(job_id=filters.job)
    if filters.app:
        rows = rows.filter(audit_app_matches(filters.app))
    if filters.rule:
        rows = rows.filter(rule=filters.rule)
    # Times become bounds on id, so every filter walks an (X, id) index in order instead of
    # sorting a time range; rows are numbered in the order they were written, as times are.
    if filters.since is not None:
        rows = rows.filter(id__gte=audit_first_id_from(moment=filters.since))
    if filters.until is not None:
        rows = rows.filter(id__lt=audit_first_id_from(moment=filters.until))
    if filters.q:
        # Only a row with a reason can contain the text: saying so lets the database walk the
        # index of those rows (audit_reason_recent) instead of every row.
        rows = rows.exclude(reason="").filter(reason__icontains=filters.q)
    return rows.order_by("-id")


def audit_app_matches(app: str) -> Q:
    """Rows of `app`: for the default app, rows written before apps had names too."""
    if app == DEFAULT_APP:
        return Q(app=app) | Q(app__isnull=True)
    return Q(app=app)


def audit_app_condition(app: str, *, column: str) -> tuple[str, list[str]]:
    """audit_app_matches written out over the quoted `column`: SQL and its parameters."""
    if app == DEFAULT_APP:
        return f"({column} = %s OR {column} IS NULL)", [app]
    return f"{column} = %s", [app]


def audit_first_id_from(*, moment: datetime) -> int:
    """The id of the first row written at or after `moment` (one past the last if none was)."""
    first = (
        AuditEntry.objects.filter(created_at__gte=moment)
        .order_by("created_at")
        .values_list("id", flat=True)
        .first()
    )
    if first is not None:
        return first
    return (AuditEntry.objects.aggregate(last=Max("id"))["last"] or 0) + 1


# The list page shows this many rows, and reads one more to know whether older ones exist.
PAGE_SIZE = 50
# Without since/until the chart covers the last month; a longer range shows its latest days only.
CHART_DEFAULT_DAYS = 30
CHART_MAX_DAYS = 92
_HOUR = timedelta(hours=1)


# The detail page lists at most this many other rows of the same operation (a bulk job's can
# run to thousands; the audit list filtered by job shows them all).
OPERATION_ROWS = 50


@dataclass(frozen=True)
class AuditOperation:
    """Rows of one operation (see AuditEntry.correlation_id), and how many more were left out."""

    rows: list[AuditEntry]
    more: int


# Newest first: "older" pages come after a cursor in this order, "newer" ones before it.
AUDIT_KEYSET = Keyset(("-id", int))
DAMAGED_CURSOR = gettext_lazy("The page link is damaged; start again from the newest rows.")
BOTH_CURSORS = gettext_lazy("The page link asks for older and newer rows at once; start again.")


def audit_positions(*, older: str, newer: str) -> tuple[tuple[int] | None, tuple[int] | None]:
    """The positions two cursors name (older rows after one, newer before the other), either
    empty; CursorError with a sentence for a damaged cursor, or for both at once."""
    older, newer = older.strip(), newer.strip()
    if older and newer:
        raise CursorError(BOTH_CURSORS)
    try:
        return (
            AUDIT_KEYSET.decode(older) if older else None,
            AUDIT_KEYSET.decode(newer) if newer else None,
        )
    except CursorError:
        raise CursorError(DAMAGED_CURSOR) from None


def audit_page(
    *,
    filters: AuditFilters,
    older_than: tuple[int] | None = None,
    newer_than: tuple[int] | None = None,
    size: int = PAGE_SIZE,
) -> KeysetPage[AuditEntry]:
    """Rows matching `filters` older or newer than a position (AUDIT_KEYSET.decode), or the newest.

    The page's "next" side is older rows, its "previous" side newer ones; both are checked
    against the database, so a page reached by cursor knows whether it is the newest.
    """
    return AUDIT_KEYSET.page(
        audit_filtered(filters=filters),
        after=older_than,
        before=newer_than,
        size=size,
        exact=True,
    )


def audit_operation_rows(*, entry: AuditEntry, limit: int = OPERATION_ROWS) -> AuditOperation:
    """The other rows sharing `entry`'s correlation id, oldest first, at most `limit` of them."""
    if entry.correlation_id is None:
        return AuditOperation(rows=[], more=0)
    others = AuditEntry.objects.filter(correlation_id=entry.correlation_id).exclude(pk=entry.pk)
    rows = list(others.order_by("id")[: limit + 1])
    more = others.count() - limit if len(rows) > limit else 0
    return AuditOperation(rows=rows[:limit], more=more)


@dataclass(frozen=True)
class AuditDayCount:
    """How many rows of each action were written on one day in the moderator's zone."""

    day: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def audit_chart_days(*, filters: AuditFilters, today: date) -> list[date]:
    """The days the chart covers, oldest first: since..until, else the last month up to today."""
    last = today
    if filters.until is not None:
        # `until` is exclusive: the day that holds its last included instant.
        last = timezone.localdate(filters.until - timedelta(microseconds=1))
    elif filters.since is not None:
        last = max(today, timezone.localdate(filters.since))
    if filters.since is not None:
        first = timezone.localdate(filters.since)
    else:
        first = last - timedelta(days=CHART_DEFAULT_DAYS - 1)
    first = max(first, last - timedelta(days=CHART_MAX_DAYS - 1))
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def audit_daily_counts(
    *,
    filters: AuditFilters,
    days: Sequence[date],
    every_row: Sequence[AuditEntry] | None = None,
) -> list[AuditDayCount]:
    """Rows matching `filters` per action on each of `days` (consecutive, oldest first).

    `every_row`, when the caller already holds every matching row (a first page with nothing
    older), spares a narrow filter's second pass over the table.
    """
    counts: list[Counter] = [Counter() for _ in days]
    if days:
        bounds = _day_bounds(filters=filters, days=days)
        narrow = filters.account or filters.operator or filters.q or filters.rule
        if narrow and every_row is not None:
            _count_rows_in_hand(rows=every_row, bounds=bounds, counts=counts)
        elif filters.account or filters.q or filters.rule or filters.job is not None:
            # Narrow sets the hourly tables do not break down: counted from the rows themselves.
            _count_rows_directly(filters=filters, bounds=bounds, counts=counts)
        else:
            _count_from_hourly_table(filters=filters, bounds=bounds, counts=counts)
    return [
        AuditDayCount(day=day, counts={action: tally[action] for action in AuditEntry.Action})
        for day, tally in zip(days, counts, strict=True)
    ]


def _day_bounds(*, filters: AuditFilters, days: Sequence[date]) -> list[datetime]:
    """Each day's first instant and the end of the last one, clipped to since..until (UTC)."""
    zone = timezone.get_current_timezone()
    starts = [
        timezone.make_aware(datetime.combine(day, time.min), zone).astimezone(UTC)
        for day in (*days, days[-1] + timedelta(days=1))
    ]
    low = max(starts[0], filters.since) if filters.since is not None else starts[0]
    high = min(starts[-1], filters.until) if filters.until is not None else starts[-1]
    high = max(low, high)
    return [min(max(start, low), high) for start in starts]


def _count_from_hourly_table(
    *, filters: AuditFilters, bounds: list[datetime], counts: list[Counter]
) -> None:
    """Sum the hourly tables over whole hours; count the rows of a partial hour at either end."""
    low, high = bounds[0], bounds[-1]
    first_hour = _hour_floor(low) + (_HOUR if _hour_floor(low) < low else timedelta())
    last_hour = _hour_floor(high)
    if first_hour < last_hour:
        if filters.operator:
            hourly = AuditOperatorHourlyCount.objects.filter(operator_username=filters.operator)
        else:
            hourly = AuditHourlyCount.objects.all()
        hourly = hourly.filter(hour__gte=first_hour, hour__lt=last_hour)
        if filters.actions:
            hourly = hourly.filter(action__in=filters.actions)
        if filters.outcome:
            hourly = hourly.filter(outcome=filters.outcome)
        if filters.app:
            # Counted under the default app's name already, rows without one included.
            hourly = hourly.filter(app=filters.app)
        # An hour counts towards the local day it starts in (exact wherever zones differ from
        # UTC by whole hours); the database sorts hours into days, so only totals come back.
        totals = (
            hourly.order_by()
            .annotate(day_index=_DayIndex("hour", bounds))
            .values("day_index", "action")
            .annotate(total=Sum("count"))
            .values_list("day_index", "action", "total")
        )
        for index, action, total in totals:
            counts[index][action] += total
        partial_hours = [(low, first_hour), (last_hour, high)]
    else:
        partial_hours = [(low, high)]
    for start, end in partial_hours:
        if start >= end:
            continue
        # As id bounds, like the list: an operator's index then holds just this part of an hour.
        rows = audit_filtered(filters=replace(filters, since=start, until=end))
        tally = counts[bisect_right(bounds, start) - 1]
        for action, total in (
            rows.order_by()
            .values("action")
            .annotate(total=Count("id"))
            .values_list("action", "total")
        ):
            tally[action] += total


def _count_rows_in_hand(
    *, rows: Sequence[AuditEntry], bounds: list[datetime], counts: list[Counter]
) -> None:
    for row in rows:
        if bounds[0] <= row.created_at < bounds[-1]:
            counts[bisect_right(bounds, row.created_at) - 1][row.action] += 1


def _count_rows_directly(
    *, filters: AuditFilters, bounds: list[datetime], counts: list[Counter]
) -> None:
    """Count the matching rows per day in one grouped query."""
    # The whole range as id bounds, as the list reads it; days told apart by when rows were
    # written, as the hourly tables and the rows in hand tell them.
    rows = (
        audit_filtered(filters=replace(filters, since=bounds[0], until=bounds[-1]))
        .order_by()
        .annotate(day_index=_DayIndex("created_at", bounds))
        .values("day_index", "action")
        .annotate(total=Count("id"))
        .values_list("day_index", "action", "total")
    )
    for index, action, total in rows:
        counts[index][action] += total


class _DayIndex(Expression):
    """Which day a row falls in: the i for which bounds[i] <= column < bounds[i + 1].

    Values before bounds[1] fall in the first day and values from bounds[-2] on in the last:
    callers keep rows within bounds[0]..bounds[-1].
    """

    output_field = IntegerField()

    def __init__(self, column: str, bounds: Sequence[Any]) -> None:
        super().__init__()
        self.source = F(column)
        self.bounds = tuple(bounds)

    def get_source_expressions(self) -> list[Any]:
        return [self.source]

    def set_source_expressions(self, expressions: Sequence[Any]) -> None:
        (self.source,) = expressions

    def as_sql(self, compiler, connection) -> tuple[str, list[Any]]:
        # A binary search written as nested CASEs: a handful of comparisons a row, not one a
        # day. Written out here because Case and When take milliseconds to compile for a month.
        column, column_params = compiler.compile(self.source)
        field = self.source.output_field
        values = [field.get_db_prep_value(bound, connection) for bound in self.bounds]
        params: list[Any] = []

        def between(low: int, high: int) -> str:
            if high - low == 1:
                return str(low)
            middle = (low + high) // 2
            params.extend([*column_params, values[middle]])
            below, above = between(low, middle), between(middle, high)
            return f"CASE WHEN {column} < %s THEN {below} ELSE {above} END"

        return between(0, len(self.bounds) - 1), params


def _hour_floor(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def audit_pending_count() -> int:
    """Rows begun and not yet completed (for /metrics); served by the (outcome, -id) index."""
    return AuditEntry.objects.filter(outcome=AuditEntry.Outcome.PENDING).count()


def audit_chain_head_completed_at() -> datetime | None:
    """When the chain's last row was completed: its head's age tells whether it still grows."""
    return (
        AuditEntry.objects.filter(chain_seq__isnull=False)
        .order_by("-chain_seq")
        .values_list("completed_at", flat=True)
        .first()
    )


def audit_operation_last_id(*, correlation_id: uuid.UUID, action: str) -> int | None:
    """The id of the operation's latest row of `action` (the change a service just made)."""
    rows = AuditEntry.objects.filter(correlation_id=correlation_id, action=action)
    return rows.order_by("-id").values_list("id", flat=True).first()
