"""The requests page: requests waiting for a Lead, with approve and reject, and recent decisions."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from muteadmin.approvals.forms import RejectForm
from muteadmin.approvals.selectors import mute_requests_recent, mute_requests_waiting
from muteadmin.approvals.services import (
    DECIDE_PERMISSION,
    ApprovalResult,
    RequestClosed,
    mute_request_approve,
    mute_request_now,
    mute_request_reject,
    mute_requests_expire,
)
from muteadmin.core.http import client_ip
from muteadmin.core.moments import moment_text
from muteadmin.upstream.selection import several_apps


class RequestListView(PermissionRequiredMixin, View):
    """Every request waiting, oldest first, and those decided lately."""

    permission_required = DECIDE_PERMISSION

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_list()

    def render_list(
        self, *, reject_forms: dict[int, RejectForm] | None = None, status: int = 200
    ) -> HttpResponse:
        mute_requests_expire()
        waiting = list(mute_requests_waiting())
        reject_forms = reject_forms or {}
        rows = [
            (item, reject_forms.get(item.pk) or RejectForm(prefix=f"r{item.pk}"))
            for item in waiting
        ]
        context = {
            "rows": rows,
            "recent": mute_requests_recent(),
            "show_app": several_apps(),
            "now": mute_request_now(),
        }
        return render(self.request, "approvals/list.html", context, status=status)


class RequestApproveView(PermissionRequiredMixin, View):
    """Approve a request: its change is made at once, as the approver for the requester."""

    permission_required = DECIDE_PERMISSION

    def post(self, request: HttpRequest, request_id: int) -> HttpResponse:
        try:
            result = mute_request_approve(
                request_id=request_id, approver=request.user, client_ip=client_ip(request)
            )
        except (RequestClosed, PermissionDenied) as exc:
            messages.error(request, str(exc))
            return redirect("approvals:list")
        item = result.request
        if result.error is not None:
            messages.error(
                request,
                _(
                    "Request #%(number)s is approved, but the change to %(account)s failed: "
                    "%(why)s The requester may file it again."
                )
                % {"number": item.pk, "account": item.account, "why": item.outcome_message},
            )
        elif result.scheduled is not None:
            self.scheduled_said(result)
        else:
            messages.success(
                request,
                _("Request #%(number)s approved: %(account)s's mutes were changed for %(person)s.")
                % {
                    "number": item.pk,
                    "account": item.account,
                    "person": item.requested_by_username,
                },
            )
            self.notice_said(result)
        return redirect("approvals:list")

    def scheduled_said(self, result: ApprovalResult) -> None:
        """Where the change an approved request with a time went: to the scheduled changes."""
        scheduled = result.scheduled
        facts = {
            "number": result.request.pk,
            "scheduled": scheduled.pk,
            "account": scheduled.account,
            "when": moment_text(scheduled.run_at),
        }
        if scheduled.run_at <= timezone.now():
            text = _(
                "Request #%(number)s approved: its time (%(when)s) has passed, so scheduled "
                "change #%(scheduled)s for %(account)s is made on the worker's next pass."
            )
        else:
            text = _(
                "Request #%(number)s approved: scheduled change #%(scheduled)s for %(account)s "
                "is made at %(when)s."
            )
        messages.success(self.request, text % facts)

    def notice_said(self, result: ApprovalResult) -> None:
        """How the notice the request asked for went, if it asked for one."""
        if result.notice_sent:
            messages.success(
                self.request, _("Notice sent to %(account)s.") % {"account": result.request.account}
            )
        elif result.notice_error is not None:
            error = result.notice_error
            why = getattr(error, "moderator_message", None) or str(error)
            messages.error(
                self.request,
                _("The change stands, but the notice was not sent: %(why)s") % {"why": why},
            )


class RequestRejectView(PermissionRequiredMixin, View):
    """Reject a request with a reason (the list is shown again with an error without one)."""

    permission_required = DECIDE_PERMISSION

    def post(self, request: HttpRequest, request_id: int) -> HttpResponse:
        form = RejectForm(data=request.POST, prefix=f"r{request_id}")
        if not form.is_valid():
            listing = RequestListView()
            listing.setup(request)
            return listing.render_list(reject_forms={request_id: form}, status=200)
        try:
            item = mute_request_reject(
                request_id=request_id,
                decider=request.user,
                reason=form.cleaned_data["reason"],
                client_ip=client_ip(request),
            )
        except (RequestClosed, PermissionDenied) as exc:
            messages.error(request, str(exc))
            return redirect("approvals:list")
        messages.success(
            request,
            _("Request #%(number)s for %(account)s rejected.")
            % {"number": item.pk, "account": item.account},
        )
        return redirect("approvals:list")
