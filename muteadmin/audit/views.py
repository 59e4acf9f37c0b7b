"""The audit log in the browser: the filtered history with its chart, one row's detail, CSV."""

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, TemplateView

from muteadmin.audit.charts import daily_chart
from muteadmin.audit.exports import audit_export
from muteadmin.audit.filters import AuditFilterForm
from muteadmin.audit.listing import audit_list_rows
from muteadmin.audit.models import AuditEntry
from muteadmin.audit.selectors import (
    audit_chart_days,
    audit_daily_counts,
    audit_operation_rows,
    audit_page,
    audit_positions,
)
from muteadmin.audit.workbooks import audit_export_xlsx
from muteadmin.core.downloads import (
    XLSX,
    csv_download,
    download_format,
    format_refused,
    xlsx_download,
)
from muteadmin.core.fragments import fragment
from muteadmin.core.http import client_ip
from muteadmin.core.pagination import CursorError
from muteadmin.core.widgets import PLAIN_WIDGET_RENDERER as FILTER_FORM_RENDERER
from muteadmin.tencent.nospeaking import PERMANENT
from muteadmin.upstream.registry import DEFAULT_APP
from muteadmin.upstream.selection import app_query, several_apps

__all__ = ["FILTER_FORM_RENDERER", "AuditDetailView", "AuditExportView", "AuditListView"]


def _query(params: dict[str, list[str]], **extra: str) -> str:
    """A query string for the filters as typed plus `extra`, starting with '?' when not empty."""
    pairs = [(name, value) for name, values in params.items() for value in values if value]
    pairs += list(extra.items())
    return f"?{urlencode(pairs)}" if pairs else ""


class AuditListView(PermissionRequiredMixin, TemplateView):
    """Every audit row matching the filters, newest first, a page at a time by cursor.

    `?before=<id>` pages to older rows, `?after=<id>` to newer ones.
    """

    permission_required = "audit.view_audit_log"
    template_name = "audit/list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = AuditFilterForm(data=self.request.GET, renderer=FILTER_FORM_RENDERER)
        show_app = several_apps()
        context |= {
            "form": form,
            "timezone_name": timezone.get_current_timezone_name(),
            "show_app": show_app,
        }
        try:
            older_than, newer_than = self._positions()
        except CursorError as exc:
            context["cursor_error"] = str(exc)
        if not form.is_valid() or "cursor_error" in context:
            return context
        filters = form.filters()
        page = audit_page(filters=filters, older_than=older_than, newer_than=newer_than)
        paged = older_than is not None or newer_than is not None
        days = audit_chart_days(filters=filters, today=timezone.localdate())
        # A first page with nothing older holds every matching row: count those for the chart.
        every_row = None if paged or page.has_next else page.rows
        chart = daily_chart(audit_daily_counts(filters=filters, days=days, every_row=every_row))
        zone_name = context["timezone_name"]
        context |= {
            "page": page,
            "rows": fragment("audit/rows.jinja", rows=audit_list_rows(page.rows), show_app=show_app)
            if page.rows
            else "",
            "paged": paged,
            "chart": chart,
            "chart_svg": fragment("audit/chart.jinja", chart=chart, zone_name=zone_name),
            "chart_table_rows": fragment("audit/chart_table.jinja", chart=chart),
            "chart_clipped": filters.since is not None
            and timezone.localdate(filters.since) < days[0],
            "first_day": days[0],
            "last_day": days[-1],
            "filter_query": _query(filters.query_string),
            "xlsx_query": _query(filters.query_string, format=XLSX),
        }
        if page.previous_cursor:
            context["newer_query"] = _query(filters.query_string, after=page.previous_cursor)
        if page.next_cursor:
            context["older_query"] = _query(filters.query_string, before=page.next_cursor)
        return context

    def _positions(self) -> tuple[tuple[int] | None, tuple[int] | None]:
        """The positions in ?before= (older rows) and ?after= (newer rows), or CursorError."""
        return audit_positions(
            older=self.request.GET.get("before", ""), newer=self.request.GET.get("after", "")
        )


class AuditDetailView(PermissionRequiredMixin, DetailView):
    """Every field of one audit row, and the other rows of the same operation."""

    permission_required = "audit.view_audit_log"
    model = AuditEntry
    template_name = "audit/detail.html"
    context_object_name = "entry"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        entry = self.object
        app = entry.app or DEFAULT_APP
        context |= {
            "show_app": several_apps(),
            "app": app,
            "account_query": app_query(app),
            "details": json.dumps(entry.details, indent=2, sort_keys=True, ensure_ascii=False),
            "timezone_name": timezone.get_current_timezone_name(),
            "PERMANENT": PERMANENT,
            "operation": audit_operation_rows(entry=entry),
        }
        return context


class AuditExportView(PermissionRequiredMixin, View):
    """The filtered rows as a streamed CSV or .xlsx (?format=xlsx) download, itself audited."""

    permission_required = "audit.export_audit_log"

    def get(self, request: HttpRequest) -> HttpResponse:
        asked = download_format(request)
        if asked is None:
            return format_refused()
        form = AuditFilterForm(data=request.GET)
        if not form.is_valid():
            problems = " ".join(
                message for messages in form.errors.values() for message in messages
            )
            return HttpResponse(
                _(
                    "Nothing was exported because the filters are not valid: %(problems)s "
                    "Correct them on the audit page and export from there."
                )
                % {"problems": problems}
                + "\n",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        filename = f"muteadmin-audit-{timezone.localdate():%Y-%m-%d}"
        if asked == XLSX:
            workbook = audit_export_xlsx(
                filters=form.filters(), operator=request.user, client_ip=client_ip(request)
            )
            return xlsx_download(workbook, filename=f"{filename}.xlsx")
        export = audit_export(
            filters=form.filters(), operator=request.user, client_ip=client_ip(request)
        )
        return csv_download(request, export, filename=f"{filename}.csv")
