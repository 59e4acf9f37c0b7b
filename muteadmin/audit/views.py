"""The audit log in the browser: the filtered history with its chart, one row's detail, CSV."""

import json
import math
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.views import View

from muteadmin.audit.exports import audit_export
from muteadmin.audit.filters import AuditFilterForm
from muteadmin.audit.models import AuditEntry
from muteadmin.audit.selectors import (
    AuditDayCount,
    audit_chart_days,
    audit_daily_counts,
    audit_page,
)
from muteadmin.mutes.templatetags.mutes import describe_seconds, duration
from muteadmin.tencent.client import PERMANENT

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

ACTION_PLURALS = {"query": "queries", "change": "changes", "export": "exports"}
# Characters of a reason shown in the list; the whole reason is on the detail page.
REASON_PREVIEW = 60
NO_VALUE = "—"
ACTION_LABELS = dict(AuditEntry.Action.choices)
OUTCOME_LABELS = dict(AuditEntry.Outcome.choices)


@dataclass(frozen=True)
class AuditRow:
    """One audit row as the list shows it, every value already in words."""

    pk: int
    time: str
    time_iso: str
    operator: str
    action: str
    account: str
    account_url: str
    requested: str
    observed: str
    reason: str
    reason_preview: str
    outcome: str
    outcome_label: str
    error_code: str
    detail_url: str


def requested_words(seconds: int | None) -> str:
    """What a change asked for: a length, "permanent", "lift", or "unchanged" when left out."""
    if seconds is None:
        return "unchanged"
    if seconds == 0:
        return "lift"
    if seconds == PERMANENT:
        return "permanent"
    return duration(seconds)


def audit_row(entry: AuditEntry) -> AuditRow:
    """Put an entry into words once, so the page's template only prints them."""
    requested = observed = NO_VALUE
    if entry.action == AuditEntry.Action.CHANGE:
        requested = (
            f"C2C: {requested_words(entry.c2c_requested)}\n"
            f"Group: {requested_words(entry.group_requested)}"
        )
    if entry.c2c_observed is not None or entry.group_observed is not None:
        observed = "\n".join(
            f"{label}: {NO_VALUE if seconds is None else describe_seconds(seconds)}"
            for label, seconds in (("C2C", entry.c2c_observed), ("Group", entry.group_observed))
        )
    local = timezone.localtime(entry.created_at)
    return AuditRow(
        pk=entry.pk,
        time=f"{local:%Y-%m-%d %H:%M:%S}",
        time_iso=local.isoformat(),
        operator=entry.operator_username or NO_VALUE,
        action=ACTION_LABELS.get(entry.action, entry.action),
        account=entry.account,
        account_url=reverse("mutes:account", args=[entry.account]) if entry.account else "",
        requested=requested,
        observed=observed,
        reason=entry.reason,
        reason_preview=Truncator(entry.reason).chars(REASON_PREVIEW),
        outcome=entry.outcome,
        outcome_label=OUTCOME_LABELS.get(entry.outcome, entry.outcome),
        error_code="" if entry.error_code is None else str(entry.error_code),
        detail_url=reverse("audit:detail", args=[entry.pk]),
    )


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _query(params: dict[str, list[str]], **extra: str | int) -> str:
    """A query string for the filters as typed plus `extra`, starting with '?' when not empty."""
    pairs = [(name, value) for name, values in params.items() for value in values if value]
    pairs += [(name, str(value)) for name, value in extra.items()]
    return f"?{urlencode(pairs)}" if pairs else ""


class CursorError(ValueError):
    """The page cursor in the query string is not one this page wrote."""


def _cursor(request: HttpRequest) -> tuple[int | None, int | None]:
    """The (before, after) ids from the query string."""
    values = {}
    for name in ("before", "after"):
        raw = request.GET.get(name, "").strip()
        if not raw:
            values[name] = None
            continue
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise CursorError("The page link is damaged; start again from the newest rows.")
        values[name] = int(raw)
    if values["before"] is not None and values["after"] is not None:
        raise CursorError("The page link asks for older and newer rows at once; start again.")
    return values["before"], values["after"]


@dataclass(frozen=True)
class ChartBar:
    """One action's share of a day's bar."""

    action: str
    count: int
    y: float
    height: float


@dataclass(frozen=True)
class ChartDay:
    """One day's stacked bar and its label."""

    day_count: AuditDayCount
    x: float
    width: float
    label_x: float
    label: str
    summary: str
    bars: list[ChartBar]


@dataclass(frozen=True)
class DailyChart:
    """Geometry for the actions-per-day chart, drawn as SVG by chart_svg()."""

    days: list[ChartDay]
    ticks: list[tuple[float, int]]
    legend: list[tuple[str, str, int]]
    total: int
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = CHART_MARGIN_LEFT
    right: int = CHART_WIDTH - CHART_MARGIN_RIGHT
    top: int = CHART_MARGIN_TOP
    bottom: int = CHART_HEIGHT - CHART_MARGIN_BOTTOM

    @property
    def x_title_x(self) -> float:
        return (self.left + self.right) / 2

    @property
    def x_title_y(self) -> int:
        return self.height - 6

    @property
    def y_title_y(self) -> float:
        return (self.top + self.bottom) / 2


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
                y = round(bottom - stacked * scale, 2)
                bars.append(
                    ChartBar(action=action, count=count, y=y, height=round(count * scale, 2))
                )
        x = CHART_MARGIN_LEFT + index * slot
        # Label from the newest day backwards so today (or the range's end) is always named.
        labelled = (len(day_counts) - 1 - index) % label_every == 0
        days.append(
            ChartDay(
                day_count=day_count,
                x=round(x + slot * (1 - CHART_BAR_SHARE) / 2, 2),
                width=round(slot * CHART_BAR_SHARE, 2),
                label_x=round(x + slot / 2, 2),
                label=f"{day_count.day.day} {day_count.day:%b}" if labelled else "",
                summary=_day_summary(day_count),
                bars=bars,
            )
        )
    ticks = [(round(bottom - value * scale, 2), value) for value in range(0, top_value + 1, step)]
    legend = [
        (action.value, action.label, sum(day.counts.get(action, 0) for day in day_counts))
        for action in actions
    ]
    return DailyChart(
        days=days, ticks=ticks, legend=legend, total=sum(day.total for day in day_counts)
    )


def _day_summary(day_count: AuditDayCount) -> str:
    """'Tue 24 Nov: 3 queries, 1 change, 0 exports' for a day's tooltip."""
    parts = [
        f"{count} {action if count == 1 else ACTION_PLURALS[action]}"
        for action, count in day_count.counts.items()
    ]
    day = day_count.day
    return f"{day:%a} {day.day} {day:%b}: " + ", ".join(parts)


def _joined(parts: list[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((part,) for part in parts))


def chart_svg(chart: DailyChart, *, zone_name: str) -> SafeString:
    """The chart as inline SVG: presentation attributes and classes only, as the CSP allows."""
    # Built here rather than in a template: a month of bars costs a template ten times as long.
    parts = [
        format_html(
            '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
            '<text class="tick" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">'
            "{}</text>",
            chart.left,
            chart.right,
            y,
            y,
            chart.left - 6,
            y,
            value,
        )
        for y, value in chart.ticks
    ]
    for day in chart.days:
        bars = format_html_join(
            "",
            '<rect class="bar bar-{}" x="{}" y="{}" width="{}" height="{}" '
            'data-action="{}" data-count="{}"/>',
            (
                (bar.action, day.x, bar.y, day.width, bar.height, bar.action, bar.count)
                for bar in day.bars
            ),
        )
        label = ""
        if day.label:
            label = format_html(
                '<text class="day-label" x="{}" y="{}" text-anchor="middle">{}</text>',
                day.label_x,
                chart.bottom + 16,
                day.label,
            )
        parts.append(
            format_html(
                '<g class="day" data-day="{}" data-total="{}"><title>{}</title>{}{}</g>',
                day.day_count.day.isoformat(),
                day.day_count.total,
                day.summary,
                bars,
                label,
            )
        )
    parts.append(
        format_html(
            '<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{bottom}"/>'
            '<line class="axis" x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}"/>'
            '<text class="axis-title" x="{x_title_x}" y="{x_title_y}" text-anchor="middle">'
            "Day ({zone})</text>"
            '<text class="axis-title" x="-{y_title_y}" y="12" transform="rotate(-90)" '
            'text-anchor="middle">Rows</text>',
            left=chart.left,
            right=chart.right,
            top=chart.top,
            bottom=chart.bottom,
            x_title_x=chart.x_title_x,
            x_title_y=chart.x_title_y,
            y_title_y=chart.y_title_y,
            zone=zone_name,
        )
    )
    first, last = chart.days[0].day_count.day, chart.days[-1].day_count.day
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" xmlns="http://www.w3.org/2000/svg" role="img" '
        'aria-label="Audit rows per day by action, {} to {}">{}</svg>',
        chart.width,
        chart.height,
        first.isoformat(),
        last.isoformat(),
        _joined(parts),
    )


def chart_table_rows(chart: DailyChart) -> SafeString:
    """The chart's counts as table rows, for readers who cannot see it."""
    rows = []
    for day in chart.days:
        when = day.day_count.day
        cells = format_html_join("", "<td>{}</td>", ((n,) for n in day.day_count.counts.values()))
        rows.append(
            format_html(
                '<tr><th scope="row">{}</th>{}</tr>', f"{when:%a} {when.day} {when:%b %Y}", cells
            )
        )
    return _joined(rows)


class AuditListView(PermissionRequiredMixin, View):
    """Every audit row matching the filters, newest first, a page at a time by cursor."""

    permission_required = "audit.view_audit_log"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = AuditFilterForm(data=request.GET)
        context = {"form": form, "timezone_name": timezone.get_current_timezone_name()}
        cursor_error = None
        try:
            before, after = _cursor(request)
        except CursorError as exc:
            cursor_error, before, after = str(exc), None, None
        if not form.is_valid() or cursor_error:
            context["cursor_error"] = cursor_error
            return render(request, "audit/list.html", context)

        filters = form.filters()
        page = audit_page(filters=filters, before=before, after=after)
        days = audit_chart_days(filters=filters, today=timezone.localdate())
        # A first page with nothing older holds every matching row: count those for the chart.
        every_row = page.rows if before is None and after is None and not page.has_older else None
        chart = daily_chart(audit_daily_counts(filters=filters, days=days, every_row=every_row))
        context |= {
            "filters": filters,
            "page": page,
            "rows": [audit_row(entry) for entry in page.rows],
            "paged": before is not None or after is not None,
            "chart": chart,
            "chart_svg": chart_svg(chart, zone_name=context["timezone_name"]),
            "chart_table_rows": chart_table_rows(chart),
            "chart_clipped": filters.since is not None
            and timezone.localdate(filters.since) < days[0],
            "first_day": days[0],
            "last_day": days[-1],
            "filter_query": _query(filters.query_string),
        }
        if page.has_newer:
            context["newer_query"] = _query(filters.query_string, after=page.newest_id)
        if page.has_older:
            context["older_query"] = _query(filters.query_string, before=page.oldest_id)
        return render(request, "audit/list.html", context)


class AuditDetailView(PermissionRequiredMixin, View):
    """Every field of one audit row."""

    permission_required = "audit.view_audit_log"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        entry = get_object_or_404(AuditEntry, pk=pk)
        context = {
            "entry": entry,
            "details": json.dumps(entry.details, indent=2, sort_keys=True, ensure_ascii=False),
            "timezone_name": timezone.get_current_timezone_name(),
            "PERMANENT": PERMANENT,
        }
        return render(request, "audit/detail.html", context)


class AuditExportView(PermissionRequiredMixin, View):
    """The filtered rows as a CSV download, streamed; the export leaves its own audit row."""

    permission_required = "audit.export_audit_log"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = AuditFilterForm(data=request.GET)
        if not form.is_valid():
            problems = " ".join(
                message for messages in form.errors.values() for message in messages
            )
            return HttpResponse(
                f"Nothing was exported because the filters are not valid: {problems} "
                "Correct them on the audit page and export from there.\n",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        export = audit_export(
            filters=form.filters(), operator=request.user, client_ip=_client_ip(request)
        )
        response = StreamingHttpResponse(export, content_type="text/csv; charset=utf-8")
        filename = f"muteadmin-audit-{timezone.localdate():%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
