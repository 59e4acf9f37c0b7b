"""Bulk pages: the form and its preview, a job's live progress, cancel, and its results."""

from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from muteadmin.bulk.forms import PREVIEW_LIMIT, BulkForm
from muteadmin.bulk.models import BulkJob
from muteadmin.bulk.selectors import (
    RESULTS_CSV_HEADER,
    bulk_job_status,
    bulk_recent_jobs,
    bulk_results_page,
    bulk_results_rows,
)
from muteadmin.bulk.services import (
    bulk_job_cancel,
    bulk_job_create,
    bulk_jobs_recover,
    bulk_max_accounts,
)
from muteadmin.bulk.tasks import task_queue
from muteadmin.core.clock import clock
from muteadmin.core.spreadsheets import csv_lines
from muteadmin.mutes.permissions import mute_permissions
from muteadmin.notices.services import DEFAULT_LANGUAGE, NoticeUnavailable, notice_render
from muteadmin.upstream.selection import AppRequestedMixin, app_query, several_apps


class BulkPermissionMixin(PermissionRequiredMixin):
    permission_required = "bulk.run_bulk"
    raise_exception = True


class BulkFormView(BulkPermissionMixin, AppRequestedMixin, View):
    """GET: the form. POST: a preview; POST again with confirm=1: the job starts.

    The job calls for accounts of the app `?app=` names (the default app without one).
    """

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_form(self.make_form())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self.make_form(data=request.POST, files=request.FILES)
        if not form.is_valid():
            return self.render_form(form)
        if form.cleaned_data["confirm"] and not form.has_invalid_lines:
            cleaned = form.cleaned_data
            job = bulk_job_create(
                operator=request.user,
                operation=cleaned["operation"],
                accounts=form.account_list.valid,
                c2c_seconds=cleaned["c2c_seconds"],
                group_seconds=cleaned["group_seconds"],
                reason=cleaned["reason"],
                queue=task_queue,
                app=self.app.name,
                notice_language=(cleaned["notice_language"] or "en") if cleaned["notify"] else "",
            )
            return redirect("bulk:job", job_id=job.pk)
        return self.render_preview(form)

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
        )

    def render_form(self, form: BulkForm) -> HttpResponse:
        context = {
            "form": form,
            "account_list": form.account_list if form.is_bound else None,
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
            context["page"] = bulk_results_page(
                job=job, after=_after(request), size=settings.BULK_RESULTS_PAGE_SIZE
            )
        return render(request, "bulk/job.html", context)


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
    """Stop a job: nothing more is sent; calls already in flight finish."""

    def post(self, request: HttpRequest, job_id: int) -> HttpResponse:
        job = get_object_or_404(BulkJob, pk=job_id)
        bulk_job_cancel(job=job)
        return redirect("bulk:job", job_id=job.pk)


class BulkResultsCsvView(BulkPermissionMixin, View):
    """Every account's outcome, streamed, once the job is over."""

    def get(self, request: HttpRequest, job_id: int) -> HttpResponse:
        job = get_object_or_404(BulkJob, pk=job_id)
        if not job.finished:
            return HttpResponse(
                "The results are ready when the job is done or cancelled.",
                status=409,
                content_type="text/plain; charset=utf-8",
            )
        response = StreamingHttpResponse(
            csv_lines(RESULTS_CSV_HEADER, bulk_results_rows(job=job)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="bulk-{job.pk}-results.csv"'
        return response
