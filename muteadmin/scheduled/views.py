"""`/scheduled/`: changes waiting for their time, a form to schedule one, and cancelling."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from muteadmin.approvals.services import RequestClosed, mute_request_file
from muteadmin.core.http import client_ip
from muteadmin.core.moments import moment_text
from muteadmin.mutes.permissions import ApprovalRequired, mute_permissions
from muteadmin.mutes.services import MuteChangeNotSent
from muteadmin.rules.selectors import rules_active
from muteadmin.scheduled.forms import ScheduleForm
from muteadmin.scheduled.models import ScheduledChange
from muteadmin.scheduled.selectors import (
    scheduled_bulk_jobs,
    scheduled_recent,
    scheduled_waiting,
)
from muteadmin.scheduled.services import (
    CANCEL_ANY_PERMISSION,
    ScheduleRefused,
    scheduled_cancel,
    scheduled_create,
)
from muteadmin.tencent.accounts import InvalidAccount
from muteadmin.tencent.errors import TencentError
from muteadmin.upstream.selection import AppRequestedMixin, several_apps


class ScheduledListView(PermissionRequiredMixin, AppRequestedMixin, View):
    """Waiting changes (cancel), recent ones, and the form to schedule one (if you may change)."""

    permission_required = "mutes.query_mute"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = self.schedule_form()
        if form is not None and (account := request.GET.get("account", "")):
            form.initial["account"] = account[:64]
        return self.render_list(form)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self.schedule_form(data=request.POST)
        if form is None:
            raise PermissionDenied
        if not form.is_valid():
            return self.render_list(form, status=400)
        if request.POST.get("request_approval"):
            return self.file_request(form)
        data = form.cleaned_data
        try:
            scheduled = scheduled_create(
                account=data["account"],
                operator=request.user,
                run_at=data["run_at"],
                reason=data["reason"],
                c2c_seconds=data["c2c_seconds"],
                group_seconds=data["group_seconds"],
                rule=data.get("rule"),
                app=self.app.name,
                client_ip=client_ip(request),
            )
        except ApprovalRequired as exc:
            # Above the user's limit (refused, and audited as such): offer a request instead.
            form.approval_required(str(exc))
            return self.render_list(form, status=400)
        except (ScheduleRefused, PermissionDenied, InvalidAccount) as exc:
            form.add_error(None, str(exc))
            return self.render_list(form, status=400)
        except (TencentError, MuteChangeNotSent) as exc:
            error = exc.error if isinstance(exc, MuteChangeNotSent) else exc
            form.add_error(
                None,
                _(
                    "Nothing was scheduled: the account's mutes could not be read to guard the "
                    "change. %(advice)s"
                )
                % {"advice": error.moderator_message},
            )
            return self.render_list(form, status=502)
        messages.success(
            request,
            _("Scheduled change #%(number)s for %(account)s is waiting.")
            % {"number": scheduled.pk, "account": scheduled.account},
        )
        return redirect("scheduled:list")

    def file_request(self, form: ScheduleForm) -> HttpResponse:
        """File the change as a request for a Lead's approval, to be scheduled once approved."""
        data = form.cleaned_data
        try:
            filed = mute_request_file(
                requester=self.request.user,
                account=data["account"],
                reason=data["reason"],
                rule=data.get("rule"),
                c2c_seconds=data["c2c_seconds"],
                group_seconds=data["group_seconds"],
                app=self.app.name,
                client_ip=client_ip(self.request),
                run_at=data["run_at"],
            )
        except (RequestClosed, ValueError, InvalidAccount) as exc:
            form.add_error(None, str(exc))
            return self.render_list(form, status=400)
        messages.success(
            self.request,
            _(
                "Request #%(number)s for %(account)s is waiting for a Lead's approval; the "
                "change is scheduled for %(when)s once one approves it."
            )
            % {"number": filed.pk, "account": filed.account, "when": moment_text(filed.run_at)},
        )
        return redirect("scheduled:list")

    def schedule_form(self, data=None) -> ScheduleForm | None:
        allowed = mute_permissions(self.request.user)
        if not allowed.change:
            return None
        return ScheduleForm(
            data=data,
            can_mute_permanently=allowed.mute_permanently,
            allowed=allowed,
            offer_requests=True,
            rules=rules_active(),
        )

    def render_list(self, form: ScheduleForm | None, *, status: int = 200) -> HttpResponse:
        context = {
            "form": form,
            "waiting": list(scheduled_waiting()),
            "bulk_jobs": list(scheduled_bulk_jobs()),
            "recent": scheduled_recent(),
            "show_app": several_apps(),
            "cancel_any": self.request.user.has_perm(CANCEL_ANY_PERMISSION),
        }
        return render(self.request, "scheduled/list.html", context, status=status)


class ScheduledCancelView(PermissionRequiredMixin, View):
    """Cancel a waiting change: its scheduler's own, or anyone's for a Lead."""

    permission_required = "mutes.change_mute"

    def post(self, request: HttpRequest, scheduled_id: int) -> HttpResponse:
        try:
            scheduled = scheduled_cancel(
                scheduled_id=scheduled_id, operator=request.user, client_ip=client_ip(request)
            )
        except ScheduledChange.DoesNotExist:
            messages.error(
                request, _("There is no scheduled change #%(number)s.") % {"number": scheduled_id}
            )
        except (ScheduleRefused, PermissionDenied) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Scheduled change #%(number)s for %(account)s is cancelled.")
                % {"number": scheduled.pk, "account": scheduled.account},
            )
        return redirect("scheduled:list")
