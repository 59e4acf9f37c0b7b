"""`/api/v1/audit` and `/api/v1/reports/mutes`: the audit log and the mute report, as their pages
filter them (the same forms, the same selectors), a page at a time by cursor."""

from dataclasses import asdict
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from muteadmin.api.base import ApiView
from muteadmin.api.openapi import INVALID, NEXT_CURSOR, PREVIOUS_CURSOR
from muteadmin.api.problems import form_errors, invalid
from muteadmin.api.serializers import AuditPage, ReportPage
from muteadmin.audit.filters import FILTER_NAMES as AUDIT_FILTERS
from muteadmin.audit.filters import AuditFilterForm
from muteadmin.audit.models import AuditEntry
from muteadmin.audit.selectors import audit_page, audit_positions
from muteadmin.core.pagination import CursorError
from muteadmin.reports.forms import MuteReportPageForm
from muteadmin.reports.selectors import FILTER_NAMES as REPORT_FILTERS
from muteadmin.reports.selectors import mute_report_page
from muteadmin.upstream.registry import DEFAULT_APP

VIEW_AUDIT_LOG = "audit.view_audit_log"


# What each filter does, as the audit and report pages read it.
FILTER_HELP = {
    "account": _("Only rows about this account (a UserID)."),
    "operator": _("Only rows by this operator: a username, or token:<name>."),
    "action": _("Only rows of these actions; repeat the parameter for several."),
    "outcome": _("Only rows with this outcome."),
    "since": _(
        "From this date (2026-11-25) or moment (2026-11-25 14:30) on, in the server's time zone "
        "unless it carries an offset."
    ),
    "until": _("Up to this moment, or to the end of this date."),
    "q": _("Only rows whose reason contains this text."),
    "job": _("Only rows of this bulk job (its number)."),
    "app": _("Only this app, by its name."),
    "rule": _("Only this policy rule, by its code."),
    "include_expired": _("1 to include mutes that have run out as well."),
}


def _parameters(names: tuple[str, ...], *, forward: str = "before") -> list[OpenApiParameter]:
    """The filters `names`, and the two cursors: `forward` is the one the next link carries."""
    described = [
        OpenApiParameter(
            name, OpenApiTypes.STR, many=name == "action", description=FILTER_HELP[name]
        )
        for name in names
    ]
    backward = "after" if forward == "before" else "before"
    cursors = [
        OpenApiParameter(forward, OpenApiTypes.STR, description=NEXT_CURSOR),
        OpenApiParameter(backward, OpenApiTypes.STR, description=PREVIOUS_CURSOR),
    ]
    return described + cursors


def _audit_row(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "created_at": entry.created_at,
        "completed_at": entry.completed_at,
        "operator": entry.operator_username,
        "on_behalf_of": entry.on_behalf_of,
        "action": entry.action,
        "account": entry.account,
        "app": entry.app or DEFAULT_APP,
        "c2c_requested": entry.c2c_requested,
        "group_requested": entry.group_requested,
        "c2c_observed": entry.c2c_observed,
        "group_observed": entry.group_observed,
        "reason": entry.reason,
        "rule": entry.rule or "",
        "outcome": entry.outcome,
        "error_code": entry.error_code,
        "error_info": entry.error_info,
        "job_id": entry.job_id,
        "correlation_id": entry.correlation_id,
    }


class AuditView(ApiView):
    """GET: audit rows matching the audit page's filters, newest first."""

    scopes = {"GET": "audit"}
    permissions = {"GET": VIEW_AUDIT_LOG}

    @extend_schema(
        operation_id="audit_list",
        summary=_("The audit log"),
        description=_(
            "Audit rows newest first, 50 a page, filtered as on the audit page: the next page "
            "holds older rows, the previous one newer. Needs the audit scope."
        ),
        parameters=_parameters(AUDIT_FILTERS),
        responses={
            200: OpenApiResponse(AuditPage, description=_("A page of audit rows.")),
            400: INVALID,
        },
    )
    def get(self, request: Request) -> Response:
        form = AuditFilterForm(data=request.query_params)
        if not form.is_valid():
            raise invalid(form_errors(form))
        try:
            older, newer = audit_positions(
                older=request.query_params.get("before", ""),
                newer=request.query_params.get("after", ""),
            )
        except CursorError as exc:
            raise invalid([{"field": "before", "message": str(exc), "code": "cursor"}]) from None
        page = audit_page(filters=form.filters(), older_than=older, newer_than=newer)
        rows = [_audit_row(entry) for entry in page.rows]
        # Newest first: the next page holds older rows (?before=), the previous newer (?after=).
        return self.paged(rows, after=page.previous_cursor, before=page.next_cursor)


class MuteReportView(ApiView):
    """GET: accounts muted now (or whose mute ran out), soonest-ending first, as the report."""

    scopes = {"GET": "audit"}
    permissions = {"GET": VIEW_AUDIT_LOG}

    @extend_schema(
        operation_id="reports_mutes",
        summary=_("The mute report"),
        description=_(
            "Accounts muted now (and, with include_expired, those whose mute ran out), "
            "soonest-ending first, filtered as on the report page. Needs the audit scope."
        ),
        parameters=_parameters(REPORT_FILTERS, forward="after"),
        responses={
            200: OpenApiResponse(ReportPage, description=_("A page of the report.")),
            400: INVALID,
        },
    )
    def get(self, request: Request) -> Response:
        form = MuteReportPageForm(data=request.query_params)
        if not form.is_valid():
            raise invalid(form_errors(form))
        page = mute_report_page(
            filters=form.report_filters(),
            now=timezone.now(),
            after=form.cleaned_data["after"],
            before=form.cleaned_data["before"],
        )
        rows = []
        for row in page.rows:
            values = asdict(row)
            values["rule"] = values.pop("last_rule")
            values.pop("unknown_change_at")
            rows.append(values)
        return self.paged(
            rows, after=page.next_cursor, before=page.previous_cursor, forward="after"
        )
