"""The audit log in the browser: the filtered history with its chart, one row's detail, CSV."""

import html
import json
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.forms.renderers import DjangoTemplates
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeString, mark_safe
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
from muteadmin.core.durations import describe_seconds, duration
from muteadmin.tencent.nospeaking import PERMANENT

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


def requested_words(seconds: int | None) -> str:
    """What a change asked for: a length, "permanent", "lift", or "unchanged" when left out."""
    if seconds is None:
        return "unchanged"
    if seconds == 0:
        return "lift"
    if seconds == PERMANENT:
        return "permanent"
    return duration(seconds)


# One row of the list. Every value put in is escaped first (_escape); see audit_rows().
_ROW_HTML = (
    '<tr data-entry="{pk}">'
    '<td class="time"><time datetime="{time_iso}">{time}</time></td>'
    "<td>{operator}</td>"
    "<td>{action}</td>"
    "<td>{account}</td>"
    '<td class="values">{requested}</td>'
    '<td class="values">{observed}</td>'
    '<td class="reason"{reason_title}>{reason_preview}</td>'
    '<td><span class="outcome outcome-{outcome}">{outcome_label}</span></td>'
    "<td>{error_code}</td>"
    '<td><a href="{detail_url}" data-detail>Details</a></td>'
    "</tr>"
)
_ACCOUNT_HTML = '<a href="{url}"><code class="account">{account}</code></a>'
_NO_ACCOUNT_HTML = '<span class="none">—</span>'
# Characters Django's reverse() leaves unquoted in a path (RFC 3986 pchar).
_PATH_SAFE = RFC3986_SUBDELIMS + "/~:@"
# Stands for the one argument when a URL is reversed once for a whole page.
_PLACEHOLDER = "9876543210"


def _escape(value: object) -> str:
    # What autoescaping does to a value in a template ({{ value }}), as django.utils.html.escape
    # does it, without the lazy-string wrapper that costs more than the escaping itself.
    return html.escape(str(value))


def _url_around_argument(name: str) -> tuple[str, str]:
    """The URL named `name` split around its one argument, so it is reversed once a page."""
    head, _, tail = reverse(name, args=[_PLACEHOLDER]).rpartition(_PLACEHOLDER)
    return head, tail


def audit_rows(entries: Sequence[AuditEntry]) -> list[SafeString]:
    """Each entry as a table row, every value in words and escaped, built once in Python.

    A template would look up and escape a dozen values a row through the template engine; 50
    rows of that cost more than everything else on the page.
    """
    zone = timezone.get_current_timezone()
    account_head, account_tail = _url_around_argument("mutes:account")
    detail_head, detail_tail = _url_around_argument("audit:detail")
    rows = []
    for entry in entries:
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
        account = _NO_ACCOUNT_HTML
        if entry.account:
            # As reverse("mutes:account", args=[entry.account]) quotes it.
            url = account_head + quote(entry.account, safe=_PATH_SAFE) + account_tail
            account = _ACCOUNT_HTML.format(url=_escape(url), account=_escape(entry.account))
        reason = entry.reason
        preview = unicodedata.normalize("NFC", reason)
        if len(preview) > REASON_PREVIEW:
            # Truncator asks the translation catalogue for its ellipsis each time: only when needed.
            preview = Truncator(reason).chars(REASON_PREVIEW)
        local = entry.created_at.astimezone(zone)
        rows.append(
            mark_safe(  # noqa: S308 - every value is escaped here
                _ROW_HTML.format(
                    pk=entry.pk,
                    time_iso=local.isoformat(),
                    time=f"{local:%Y-%m-%d %H:%M:%S}",
                    operator=_escape(entry.operator_username or NO_VALUE),
                    action=_escape(ACTION_LABELS.get(entry.action, entry.action)),
                    account=account,
                    requested=_escape(requested),
                    observed=_escape(observed),
                    reason_title=f' title="{_escape(reason)}"' if reason else "",
                    reason_preview=_escape(preview),
                    outcome=_escape(entry.outcome),
                    outcome_label=_escape(OUTCOME_LABELS.get(entry.outcome, entry.outcome)),
                    error_code="" if entry.error_code is None else entry.error_code,
                    detail_url=_escape(f"{detail_head}{entry.pk}{detail_tail}"),
                )
            )
        )
    return rows


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


def chart_svg(chart: DailyChart, *, zone_name: str) -> SafeString:
    """The chart as inline SVG: presentation attributes and classes only, as the CSP allows."""
    # Built here rather than in a template: a month of bars costs a template ten times as long.
    # Numbers go in as they are; every text is escaped (_escape).
    parts = [
        f'<line class="grid" x1="{chart.left}" x2="{chart.right}" y1="{y}" y2="{y}"/>'
        f'<text class="tick" x="{chart.left - 6}" y="{y}" text-anchor="end" '
        f'dominant-baseline="middle">{value}</text>'
        for y, value in chart.ticks
    ]
    label_y = chart.bottom + 16
    for day in chart.days:
        bars = "".join(
            f'<rect class="bar bar-{_escape(bar.action)}" x="{day.x}" y="{bar.y}" '
            f'width="{day.width}" height="{bar.height}" data-action="{_escape(bar.action)}" '
            f'data-count="{bar.count}"/>'
            for bar in day.bars
        )
        label = ""
        if day.label:
            label = (
                f'<text class="day-label" x="{day.label_x}" y="{label_y}" '
                f'text-anchor="middle">{_escape(day.label)}</text>'
            )
        parts.append(
            f'<g class="day" data-day="{day.day_count.day.isoformat()}" '
            f'data-total="{day.day_count.total}"><title>{_escape(day.summary)}</title>'
            f"{bars}{label}</g>"
        )
    parts.append(
        f'<line class="axis" x1="{chart.left}" x2="{chart.left}" y1="{chart.top}" '
        f'y2="{chart.bottom}"/>'
        f'<line class="axis" x1="{chart.left}" x2="{chart.right}" y1="{chart.bottom}" '
        f'y2="{chart.bottom}"/>'
        f'<text class="axis-title" x="{chart.x_title_x}" y="{chart.x_title_y}" '
        f'text-anchor="middle">Day ({_escape(zone_name)})</text>'
        f'<text class="axis-title" x="-{chart.y_title_y}" y="12" transform="rotate(-90)" '
        'text-anchor="middle">Rows</text>'
    )
    first, last = chart.days[0].day_count.day, chart.days[-1].day_count.day
    return mark_safe(  # noqa: S308 - every text put in is escaped
        f'<svg class="chart" viewBox="0 0 {chart.width} {chart.height}" '
        'xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="Audit rows per day by action, {first.isoformat()} to {last.isoformat()}">'
        f"{''.join(parts)}</svg>"
    )


def chart_table_rows(chart: DailyChart) -> SafeString:
    """The chart's counts as table rows, for readers who cannot see it."""
    rows = []
    for day in chart.days:
        when = day.day_count.day
        cells = "".join(f"<td>{count}</td>" for count in day.day_count.counts.values())
        rows.append(
            f'<tr><th scope="row">{_escape(f"{when:%a} {when.day} {when:%b %Y}")}</th>{cells}</tr>'
        )
    return mark_safe("".join(rows))  # noqa: S308 - the only text is escaped


class _NotPlain(Exception):
    """A widget holds a value the fast path does not handle: let the templates render it."""


def _plain(value: object) -> str:
    # Only plain strings and numbers: a safe or lazy string is left to the templates, which
    # treat those differently.
    if type(value) is str:
        return html.escape(value)
    if type(value) is int:
        return str(value)
    raise _NotPlain


def _attrs_html(attrs: dict) -> str:
    # django/forms/widgets/attrs.html
    return "".join(
        f" {_plain(name)}" if value is True else f' {_plain(name)}="{_plain(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input_html(widget: dict) -> str:
    # django/forms/widgets/input.html
    value = "" if widget["value"] is None else f' value="{_plain(widget["value"])}"'
    return (
        f'<input type="{_plain(widget["type"])}" name="{_plain(widget["name"])}"{value}'
        f"{_attrs_html(widget['attrs'])}>"
    )


def _select_html(widget: dict) -> str:
    # django/forms/widgets/select.html and select_option.html, with their line breaks.
    options = []
    for group_name, choices, _ in widget["optgroups"]:
        if group_name:
            raise _NotPlain
        for option in choices:
            if option["template_name"] != _OPTION_TEMPLATE:
                raise _NotPlain
            options.append(
                f'\n  <option value="{_plain(option["value"])}"{_attrs_html(option["attrs"])}>'
                f"{_plain(option['label'])}</option>\n"
            )
    attrs = _attrs_html(widget["attrs"])
    return f'<select name="{_plain(widget["name"])}"{attrs}>{"".join(options)}\n</select>'


_INPUT_TEMPLATES = frozenset(
    {
        "django/forms/widgets/input.html",
        "django/forms/widgets/text.html",
        "django/forms/widgets/checkbox_option.html",
    }
)
_SELECT_TEMPLATE = "django/forms/widgets/select.html"
_OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


class FilterFormRenderer(DjangoTemplates):
    """Draws the filter form's text boxes, checkboxes and menu as Django's templates would.

    The page draws nine widgets on every request, and through the template engine they cost
    as much as the rest of the page; anything out of the ordinary still goes to the templates.
    """

    def render(self, template_name: str, context: dict, request: HttpRequest | None = None):
        widget = context.get("widget") or {}
        try:
            if template_name in _INPUT_TEMPLATES and not widget.get("wrap_label"):
                return _input_html(widget)
            if template_name == _SELECT_TEMPLATE:
                return _select_html(widget)
        except _NotPlain:
            pass
        return super().render(template_name, context, request=request)


FILTER_FORM_RENDERER = FilterFormRenderer()


class AuditListView(PermissionRequiredMixin, View):
    """Every audit row matching the filters, newest first, a page at a time by cursor."""

    permission_required = "audit.view_audit_log"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = AuditFilterForm(data=request.GET, renderer=FILTER_FORM_RENDERER)
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
            "rows": audit_rows(page.rows),
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
