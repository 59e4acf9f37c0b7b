"""The audit page's actions-per-day chart as plain data: bar geometry, ticks, legend, labels.

Numbers that go into the SVG are written out here as text, once, so the template only places
them (templates/audit/list.html, partial "chart").
"""

import math
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import ngettext_lazy, pgettext_lazy

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

# A day's count of one action, for its tooltip ("3 queries, 1 change").
ACTION_COUNTS = {
    "query": ngettext_lazy("%(count)d query", "%(count)d queries", "count"),
    "change": ngettext_lazy("%(count)d change", "%(count)d changes", "count"),
    "export": ngettext_lazy("%(count)d export", "%(count)d exports", "count"),
    "request_filed": ngettext_lazy("%(count)d request filed", "%(count)d requests filed", "count"),
    "request_approved": ngettext_lazy(
        "%(count)d request approved", "%(count)d requests approved", "count"
    ),
    "request_rejected": ngettext_lazy(
        "%(count)d request rejected", "%(count)d requests rejected", "count"
    ),
    "request_expired": ngettext_lazy(
        "%(count)d request expired", "%(count)d requests expired", "count"
    ),
    "limit_change": ngettext_lazy("%(count)d limit change", "%(count)d limit changes", "count"),
    "team": ngettext_lazy("%(count)d team change", "%(count)d team changes", "count"),
    "login": ngettext_lazy("%(count)d login", "%(count)d logins", "count"),
    "login_failed": ngettext_lazy("%(count)d failed login", "%(count)d failed logins", "count"),
    "rule_change": ngettext_lazy("%(count)d rule change", "%(count)d rule changes", "count"),
    "cancel": ngettext_lazy("%(count)d cancel", "%(count)d cancels", "count"),
    "denied": ngettext_lazy("%(count)d denied", "%(count)d denied", "count"),
    "notice": ngettext_lazy("%(count)d notice", "%(count)d notices", "count"),
    "note": ngettext_lazy("%(count)d note", "%(count)d notes", "count"),
    "scheduled": ngettext_lazy(
        "%(count)d scheduled change", "%(count)d scheduled changes", "count"
    ),
    "drift": ngettext_lazy("%(count)d drift", "%(count)d drifts", "count"),
    "watchlist": ngettext_lazy(
        "%(count)d watchlist change", "%(count)d watchlist changes", "count"
    ),
    "robot": ngettext_lazy(
        "%(count)d notification change", "%(count)d notification changes", "count"
    ),
}
# Names looked up rather than formatted: a month of days costs strftime more than the rest of
# the layout. Translated once per chart (_DayWords).
_WEEKDAYS = (
    pgettext_lazy("weekday", "Mon"),
    pgettext_lazy("weekday", "Tue"),
    pgettext_lazy("weekday", "Wed"),
    pgettext_lazy("weekday", "Thu"),
    pgettext_lazy("weekday", "Fri"),
    pgettext_lazy("weekday", "Sat"),
    pgettext_lazy("weekday", "Sun"),
)
_MONTHS = (
    pgettext_lazy("month", "Jan"),
    pgettext_lazy("month", "Feb"),
    pgettext_lazy("month", "Mar"),
    pgettext_lazy("month", "Apr"),
    pgettext_lazy("month", "May"),
    pgettext_lazy("month", "Jun"),
    pgettext_lazy("month", "Jul"),
    pgettext_lazy("month", "Aug"),
    pgettext_lazy("month", "Sep"),
    pgettext_lazy("month", "Oct"),
    pgettext_lazy("month", "Nov"),
    pgettext_lazy("month", "Dec"),
)


class _DayWords:
    """A day's label, tooltip start and table heading in the active language."""

    def __init__(self) -> None:
        self.weekdays = [str(name) for name in _WEEKDAYS]
        self.months = [str(name) for name in _MONTHS]
        self.label = _("%(day)d %(month)s")
        self.full = _("%(weekday)s %(day)d %(month)s")
        self.dated = _("%(weekday)s %(day)d %(month)s %(year)d")

    def words(self, day: date) -> dict[str, object]:
        return {
            "weekday": self.weekdays[day.weekday()],
            "day": day.day,
            "month": self.months[day.month - 1],
            "year": day.year,
        }


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
    names = _DayWords()

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
        words = names.words(day_count.day)
        days.append(
            ChartDay(
                day_count=day_count,
                iso=day_count.day.isoformat(),
                x=f"{round(x + slot * (1 - CHART_BAR_SHARE) / 2, 2)}",
                width=f"{round(slot * CHART_BAR_SHARE, 2)}",
                label_x=f"{round(x + slot / 2, 2)}",
                label=names.label % words if labelled else "",
                summary=f"{names.full % words}{_(': ')}{_day_counts(day_count)}",
                table_label=names.dated % words,
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
    return _(", ").join(
        ACTION_COUNTS[action] % {"count": count} if action in ACTION_COUNTS else f"{count} {action}"
        for action, count in day_count.counts.items()
    )
