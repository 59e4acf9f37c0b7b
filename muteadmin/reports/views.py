"""The mute report: who is muted now, as a page and as a CSV or .xlsx download."""

from urllib.parse import urlencode

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from muteadmin.core.downloads import (
    XLSX,
    csv_download,
    download_format,
    format_refused,
    xlsx_download,
)
from muteadmin.core.http import client_ip
from muteadmin.reconcile.selectors import reconcile_latest
from muteadmin.reports.forms import MuteReportForm, MuteReportPageForm
from muteadmin.reports.selectors import FILTER_NAMES, mute_report_page
from muteadmin.reports.services import mute_report_export, mute_report_export_xlsx
from muteadmin.upstream.selection import several_apps


def _filter_query(request: HttpRequest) -> str:
    """The report's filters from the query string as typed (no page cursor), URL-encoded."""
    typed = [(name, value) for name in FILTER_NAMES for value in request.GET.getlist(name) if value]
    return urlencode(typed)


def _with_query(url: str, query: str, **extra: str) -> str:
    params = "&".join(part for part in (query, urlencode(extra)) if part)
    return f"{url}?{params}" if params else url


def _page_url(here: str, query: str, *, name: str, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return _with_query(here, query, **{name: cursor})


class MuteReportView(PermissionRequiredMixin, View):
    """Accounts muted now (or whose mute has run out), soonest-ending first, a page at a time."""

    permission_required = "audit.view_audit_log"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = MuteReportPageForm(data=request.GET)
        query = _filter_query(request)
        here = reverse("reports:mutes")
        context = {
            "form": form,
            "page": None,
            "first_url": _with_query(here, query),
            "export_url": _with_query(reverse("reports:mutes_csv"), query),
            "xlsx_url": _with_query(reverse("reports:mutes_csv"), query, format=XLSX),
            "show_app": several_apps(),
            "run": reconcile_latest(),
        }
        if form.is_valid():
            page = mute_report_page(
                filters=form.report_filters(),
                now=timezone.now(),
                after=form.cleaned_data["after"],
                before=form.cleaned_data["before"],
            )
            context.update(
                page=page,
                next_url=_page_url(here, query, name="after", cursor=page.next_cursor),
                previous_url=_page_url(here, query, name="before", cursor=page.previous_cursor),
            )
        return render(
            request, "reports/mutes.html", context, status=200 if form.is_valid() else 400
        )


class MuteReportCsvView(PermissionRequiredMixin, View):
    """The whole report as a streamed CSV or .xlsx (?format=xlsx) download, itself audited."""

    permission_required = "audit.export_audit_log"

    def get(self, request: HttpRequest) -> HttpResponse:
        asked = download_format(request)
        if asked is None:
            return format_refused()
        form = MuteReportForm(data=request.GET)
        if not form.is_valid():
            errors = " ".join(error for errors in form.errors.values() for error in errors)
            return HttpResponse(
                _(
                    "Nothing was exported because the filters are not valid: %(problems)s "
                    "Correct them on the report page and export from there."
                )
                % {"problems": errors}
                + "\n",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        now = timezone.now()
        filename = f"mute-report-{timezone.localdate(now).isoformat()}"
        start = mute_report_export_xlsx if asked == XLSX else mute_report_export
        export = start(
            operator=request.user,
            filters=form.report_filters(),
            now=now,
            client_ip=client_ip(request),
        )
        if asked == XLSX:
            return xlsx_download(export, filename=f"{filename}.xlsx")
        return csv_download(request, export, filename=f"{filename}.csv")
