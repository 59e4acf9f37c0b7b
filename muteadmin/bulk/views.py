"""Bulk pages: the form and its preview, a job's live progress, cancel, and its results."""

from datetime import UTC, datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from muteadmin.audit.denials import audit_denied
from muteadmin.bulk.exports import bulk_results_xlsx
from muteadmin.bulk.follow_ups import bulk_job_follow_up
from muteadmin.bulk.forms import PREVIEW_LIMIT, BulkForm
from muteadmin.bulk.models import BulkJob
from muteadmin.bulk.selectors import (
    RESULT_OUTCOMES,
    RESULTS_CSV_HEADER,
    RESULTS_NOT_READY,
    bulk_job_status,
    bulk_recent_jobs,
    bulk_results_page,
    bulk_results_rows,
)
from muteadmin.bulk.services import bulk_job_cancel, bulk_jobs_recover, bulk_max_accounts
from muteadmin.bulk.submissions import BULK_REFUSED, bulk_form_refusal_audit, bulk_job_submit
from muteadmin.bulk.tasks import task_queue
from muteadmin.core.clock import clock
from muteadmin.core.downloads import (
    XLSX,
    csv_download,
    download_format,
    format_refused,
    xlsx_download,
)
from muteadmin.core.http import client_ip
from muteadmin.core.spreadsheets import csv_lines
from muteadmin.mutes.permissions import mute_permissions
from muteadmin.notices.services import DEFAULT_LANGUAGE, NoticeUnavailable, notice_render
from muteadmin.rules.selectors import rules_active
from muteadmin.upstream.selection import AppRequestedMixin, app_query, several_apps

# The largest id a job can have (a signed 64-bit key): a larger one in a URL names no job.
MAX_JOB_ID = 2**63 - 1


class BulkPermissionMixin(PermissionRequiredMixin):
    """Bulk pages need bulk.run_bulk; a post refused for want of it is audited (`denied`)."""

    permission_required = "bulk.run_bulk"
    raise_exception = True
    # What a refused post asked for, as its audit row names it.
    denied_asked = "bulk"

    def handle_no_permission(self):
        request = self.request
        if request.method == "POST" and request.user.is_authenticated:
            job_id = self.kwargs.get("job_id")
            # Only a job that exists is named: never a raw value from the URL.
            known = job_id is not None and job_id <= MAX_JOB_ID
            known = known and BulkJob.objects.filter(pk=job_id).exists()
            audit_denied(
                operator=request.user,
                asked=self.denied_asked,
                refused=BULK_REFUSED,
                client_ip=client_ip(request),
                details={"job": job_id} if known else None,
            )
        return super().handle_no_permission()


class BulkFormView(BulkPermissionMixin, AppRequestedMixin, View):
    """GET: the form. POST: a preview; POST again with confirm=1: the job starts.

    The job calls for accounts of the app `?app=` names (the default app without one).
    """

    def get(self, request: HttpRequest) -> HttpResponse:
        form = self.make_form()
        # ?rule=spam: the form drawn with the rule picked, and the notify box as it wants.
        code = request.GET.get("rule", "")
        if rule := next((rule for rule in form.rules if rule.code == code), None):
            form.initial |= {"rule": rule.code, "notify": rule.notify_by_default}
        return self.render_form(form)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self.make_form(data=request.POST, files=request.FILES)
        if not form.is_valid():
            self.refusal_audit(form)
            return self.render_form(form)
        if form.cleaned_data["confirm"] and not form.has_invalid_lines:
            job = bulk_job_submit(form=form, operator=request.user, app=self.app.name)
            return redirect("bulk:job", job_id=job.pk)
        return self.render_preview(form)

    def refusal_audit(self, form: BulkForm) -> None:
        """A job the form refused for want of a permission (to change, or to mute permanently)."""
        bulk_form_refusal_audit(
            form=form,
            operator=self.request.user,
            client_ip=client_ip(self.request),
            app=self.app.name,
        )

    def make_form(self, data=None, files=None) -> BulkForm:
        allowed = mute_permissions(self.request.user)
        return BulkForm(
            data=data,
            files=files,
            can_change=allowed.change,
            can_mute_permanently=allowed.mute_permanently,
            # Lengths above the user's limit are refused with the limit named: bulk jobs
            # take no requests for approval.
            allowed=allowed if allowed.change else None,
            rules=rules_active(),
        )

    def render_form(self, form: BulkForm) -> HttpResponse:
        context = {
            "form": form,
            "account_list": form.account_list if form.is_bound else None,
            "carried": form.carried_fields() if form.is_bound else [],
            "preview_limit": PREVIEW_LIMIT,
            "max_accounts": f"{bulk_max_accounts():,}",
            "jobs": bulk_recent_jobs(),
            **self.app_context(),
        }
        return render(self.request, "bulk/form.html", context)

    def render_preview(self, form: BulkForm) -> HttpResponse:
        account_list = form.account_list
        context = {
            "form": form,
            "account_list": account_list,
            "accounts_text": "\n".join(account_list.valid),
            "carried": form.carried_fields(),
            "operation": BulkJob.Operation(form.cleaned_data["operation"]),
            "c2c_seconds": form.cleaned_data["c2c_seconds"],
            "group_seconds": form.cleaned_data["group_seconds"],
            "preview_limit": PREVIEW_LIMIT,
            "max_accounts": f"{bulk_max_accounts():,}",
            "notice": _notice_sample(form),
            **self.app_context(),
        }
        return render(self.request, "bulk/preview.html", context)

    def app_context(self) -> dict:
        """The app the form works on, named on the page only when several are configured."""
        return {"app_query": app_query(self.app.name), "job_app": self.app}


def _notice_sample(form: BulkForm) -> str:
    """The notice each account will be sent, as if sent now; "" when none will be."""
    cleaned = form.cleaned_data
    if not cleaned.get("notify") or cleaned["operation"] == BulkJob.Operation.LOOKUP:
        return ""
    try:
        return notice_render(
            c2c_seconds=cleaned["c2c_seconds"],
            group_seconds=cleaned["group_seconds"],
            reason=cleaned["reason"],
            now=datetime.fromtimestamp(clock().time(), UTC),
            language=cleaned["notice_language"] or DEFAULT_LANGUAGE,
            rule_code=cleaned["rule"] or "",
        )
    except NoticeUnavailable as exc:
        return str(exc)


def _after(request: HttpRequest) -> int:
    raw = request.GET.get("after", "")
    # No result is numbered beyond 64 bits, and int() refuses thousands of digits.
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 19 else 0


class BulkJobView(BulkPermissionMixin, View):
    """A job's progress (kept live by bulk.js), cancel button, and results once it is over."""

    def get(self, request: HttpRequest, job_id: int) -> HttpResponse:
        job = get_object_or_404(BulkJob, pk=job_id)
        context = {
            "job": job,
            "status": bulk_job_status(job=job),
            "several_apps": several_apps(),
            # Each result links to the account's page in the job's app.
            "app_query": app_query(job.app),
        }
        if job.finished:
            outcome = request.GET.get("outcome", "")
            context["outcome"] = outcome if outcome in RESULT_OUTCOMES else ""
            context["outcome_unknown"] = bool(outcome) and outcome not in RESULT_OUTCOMES
            context["page"] = bulk_results_page(
                job=job,
                after=_after(request),
                size=settings.BULK_RESULTS_PAGE_SIZE,
                outcome=context["outcome"],
            )
            context["follow_ups"] = list(job.follow_ups.order_by("id"))
        return render(request, "bulk/job.html", context)


class BulkJobFollowUpView(BulkPermissionMixin, View):
    """Start a job over a finished job's failed accounts, or over those it never sent."""

    def post(self, request: HttpRequest, job_id: int) -> HttpResponse:
        job = get_object_or_404(BulkJob, pk=job_id)
        try:
            follow_up = bulk_job_follow_up(
                job=job,
                which=request.POST.get("which", ""),
                operator=request.user,
                queue=task_queue,
            )
        except (ValueError, PermissionDenied) as exc:
            messages.error(request, str(exc))
            return redirect("bulk:job", job_id=job.pk)
        return redirect("bulk:job", job_id=follow_up.pk)


class BulkJobStatusView(BulkPermissionMixin, View):
    """The progress bar's data; polling it also rescues the job if its workers died."""

    def get(self, request: HttpRequest, job_id: int) -> JsonResponse:
        job = get_object_or_404(BulkJob, pk=job_id)
        if not job.finished and bulk_jobs_recover(job_id=job.pk, queue=task_queue):
            job.refresh_from_db()
        response = JsonResponse(bulk_job_status(job=job))
        response["Cache-Control"] = "no-store"
        return response


class BulkJobCancelView(BulkPermissionMixin, View):
    """Stop a job: nothing more is sent; calls already in flight finish. Records who stopped it."""

    denied_asked = "cancel"

    def post(self, request: HttpRequest, job_id: int) -> HttpResponse:
        job = get_object_or_404(BulkJob, pk=job_id)
        bulk_job_cancel(job=job, operator=request.user, client_ip=client_ip(request))
        return redirect("bulk:job", job_id=job.pk)


class BulkResultsCsvView(BulkPermissionMixin, View):
    """Every account's outcome, streamed as CSV or .xlsx (?format=xlsx), once the job is over."""

    def get(self, request: HttpRequest, job_id: int) -> HttpResponse:
        asked = download_format(request)
        if asked is None:
            return format_refused()
        job = get_object_or_404(BulkJob, pk=job_id)
        if not job.finished:
            return HttpResponse(
                str(RESULTS_NOT_READY),
                status=409,
                content_type="text/plain; charset=utf-8",
            )
        filename = f"bulk-{job.pk}-results"
        if asked == XLSX:
            return xlsx_download(bulk_results_xlsx(job=job), filename=f"{filename}.xlsx")
        rows = csv_lines(RESULTS_CSV_HEADER, bulk_results_rows(job=job))
        return csv_download(request, rows, filename=f"{filename}.csv")
