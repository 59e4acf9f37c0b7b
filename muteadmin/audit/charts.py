"""The audit page's actions-per-day chart as plain data: bar geometry, ticks, legend, labels.

Numbers that go into the SVG are written out here as text, once, so the template only places
them (templates/audit/list.html, partial "chart").
"""

import math
from dataclasses import dataclass

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.selectors import AuditDayCount

# The chart's drawing area in SVG user units; the stylesheet scales it to the page width.
CHART_WIDTH = 720
CHART_HEIGHT = 220
CHART_MARGIN_LEFT = 48
CHART_MARGIN_RIGHT = 8
CHART_MARGIN_TOP = 10
CHART_MARGIN_BOTTOM = 46
# At most this many day labels under the bars, so they never overlap.
CHART_MAX_DAY_LABELS = 10
CHART_BAR_SHARE = 0.7

ACTION_PLURALS = {
    "query": "queries",
    "change": "changes",
    "export": "exports",
    "request_filed": "requests filed",
    "request_approved": "requests approved",
    "request_rejected": "requests rejected",
    "request_expired": "requests expired",
    "limit_change": "limit changes",
    "team": "team changes",
    "login": "logins",
    "login_failed": "failed logins",
    "rule_change": "rule changes",
    "cancel": "cancels",
    "denied": "denied",
    "notice": "notices",
    "note": "notes",
    "scheduled": "scheduled changes",
    "drift": "drifts",
}
# One row of an action, where its value is not the word itself.
ACTION_SINGULARS = {
    "request_filed": "request filed",
    "request_approved": "request approved",
    "request_rejected": "request rejected",
    "request_expired": "request expired",
    "limit_change": "limit change",
    "team": "team change",
    "login_failed": "failed login",
    "rule_change": "rule change",
}
# English names as strftime's %a and %b give them in the C locale, looked up rather than
# formatted: a month of days costs strftime more than the rest of the layout.
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(slots=True)
class ChartBar:
    """One action's share of a day's bar."""

    action: str
    count: int
    y: str
    height: str


@dataclass(slots=True)
class ChartDay:
    """One day's stacked bar, its label (empty when not drawn) and its counts for the table."""

    day_count: AuditDayCount
    iso: str
    x: str
    width: str
    label_x: str
    label: str
    summary: str
    table_label: str
    counts: list[int]
    bars: list[ChartBar]


@dataclass(slots=True)
class ChartTick:
    """A gridline and its value on the rows axis."""

    y: str
    value: int


@dataclass(frozen=True)
class DailyChart:
    """Geometry for the actions-per-day chart."""

    days: list[ChartDay]
    ticks: list[ChartTick]
    legend: list[tuple[str, str, int]]
    total: int
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = CHART_MARGIN_LEFT
    right: int = CHART_WIDTH - CHART_MARGIN_RIGHT
    top: int = CHART_MARGIN_TOP
    bottom: int = CHART_HEIGHT - CHART_MARGIN_BOTTOM
    tick_x: int = CHART_MARGIN_LEFT - 6
    label_y: int = CHART_HEIGHT - CHART_MARGIN_BOTTOM + 16
    x_title_x: str = f"{(CHART_MARGIN_LEFT + CHART_WIDTH - CHART_MARGIN_RIGHT) / 2}"
    x_title_y: int = CHART_HEIGHT - 6
    # Negative: the rows axis title is drawn rotated a quarter turn.
    y_title_x: str = f"-{(CHART_MARGIN_TOP + CHART_HEIGHT - CHART_MARGIN_BOTTOM) / 2}"

    @property
    def first_iso(self) -> str:
        return self.days[0].iso

    @property
    def last_iso(self) -> str:
        return self.days[-1].iso


def _nice_step(peak: int) -> int:
    """A 1, 2 or 5 times a power of ten step giving at most five gridlines up to `peak`."""
    power = 1
    while True:
        for factor in (1, 2, 5):
            if peak <= 5 * factor * power:
                return factor * power
        power *= 10


def daily_chart(day_counts: list[AuditDayCount]) -> DailyChart:
    """Lay out one stacked bar per day, actions in a fixed order, with axis ticks."""
    actions = list(AuditEntry.Action)
    peak = max((day.total for day in day_counts), default=0)
    step = _nice_step(peak)
    top_value = max(step, math.ceil(peak / step) * step)
    plot_height = CHART_HEIGHT - CHART_MARGIN_TOP - CHART_MARGIN_BOTTOM
    plot_width = CHART_WIDTH - CHART_MARGIN_LEFT - CHART_MARGIN_RIGHT
    scale = plot_height / top_value
    bottom = CHART_HEIGHT - CHART_MARGIN_BOTTOM
    slot = plot_width / max(len(day_counts), 1)
    label_every = math.ceil(len(day_counts) / CHART_MAX_DAY_LABELS) or 1

    days = []
    for index, day_count in enumerate(day_counts):
        bars, stacked = [], 0
        for action in actions:
            count = day_count.counts.get(action, 0)
            if count:
                stacked += count
                y, height = round(bottom - stacked * scale, 2), round(count * scale, 2)
                bars.append(ChartBar(action=action, count=count, y=f"{y}", height=f"{height}"))
        x = CHART_MARGIN_LEFT + index * slot
        # Label from the newest day backwards so today (or the range's end) is always named.
        labelled = (len(day_counts) - 1 - index) % label_every == 0
        day = day_count.day
        weekday, month = _WEEKDAYS[day.weekday()], _MONTHS[day.month - 1]
        days.append(
            ChartDay(
                day_count=day_count,
                iso=day.isoformat(),
                x=f"{round(x + slot * (1 - CHART_BAR_SHARE) / 2, 2)}",
                width=f"{round(slot * CHART_BAR_SHARE, 2)}",
                label_x=f"{round(x + slot / 2, 2)}",
                label=f"{day.day} {month}" if labelled else "",
                summary=f"{weekday} {day.day} {month}: {_day_counts(day_count)}",
                table_label=f"{weekday} {day.day} {month} {day.year}",
                counts=list(day_count.counts.values()),
                bars=bars,
            )
        )
    ticks = [
        ChartTick(y=f"{round(bottom - value * scale, 2)}", value=value)
        for value in range(0, top_value + 1, step)
    ]
    legend = [
        (action.value, action.label, sum(day.counts.get(action, 0) for day in day_counts))
        for action in actions
    ]
    return DailyChart(
        days=days, ticks=ticks, legend=legend, total=sum(day.total for day in day_counts)
    )


def _day_counts(day_count: AuditDayCount) -> str:
    """'3 queries, 1 change, 0 exports' for a day's tooltip."""
    singular, plural = ACTION_SINGULARS.get, ACTION_PLURALS.get
    return ", ".join(
        f"{count} {singular(action, action) if count == 1 else plural(action, action)}"
        for action, count in day_count.counts.items()
    )
