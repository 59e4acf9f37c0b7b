"""`/api/v1/bulk`: start a bulk job as the bulk page does, follow it, page through its results."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from muteadmin.api.base import ApiView
from muteadmin.api.idempotency import idempotent
from muteadmin.api.mutes import change_form_data
from muteadmin.api.openapi import APP, IDEMPOTENCY_KEY, INVALID, NEXT_CURSOR, refused
from muteadmin.api.problems import Problem, form_errors, invalid
from muteadmin.api.serializers import (
    BulkJobAnswer,
    BulkJobRequest,
    BulkResultsPage,
    BulkStatusSerializer,
)
from muteadmin.audit.denials import audit_denied
from muteadmin.bulk.forms import BulkForm
from muteadmin.bulk.models import BulkItem, BulkJob
from muteadmin.bulk.selectors import (
    RESULT_OUTCOMES,
    RESULTS_KEYSET,
    RESULTS_NOT_READY,
    bulk_item_outcome,
    bulk_job_status,
)
from muteadmin.bulk.selectors import bulk_results_page as results_page
from muteadmin.bulk.services import bulk_jobs_recover
from muteadmin.bulk.submissions import BULK_REFUSED, bulk_form_refusal_audit, bulk_job_submit
from muteadmin.bulk.tasks import task_queue
from muteadmin.core.pagination import CursorError
from muteadmin.mutes.permissions import mute_permissions
from muteadmin.rules.selectors import rules_active

RUN_BULK = "bulk.run_bulk"
# The bulk form's field names as the API names them.
FIELD_NAMES = {"accounts": "accounts", "file": "accounts"}
JOB_ID = OpenApiParameter(
    "job_id",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    required=True,
    description=_("The job's number: the id its start answered."),
)
NO_JOB = refused(_("No bulk job of that number."))


class BulkJobsView(ApiView):
    """POST: a new job over a list of accounts (a lookup, a change or a lift)."""

    scopes = {"POST": "bulk"}

    @extend_schema(
        operation_id="bulk_create",
        summary=_("Start a bulk job"),
        description=_(
            "A lookup, a change or a lift over a list of accounts, run as the bulk page runs it: "
            "the same limits (no requests for approval: a length above them is refused) and "
            "audit rows. Needs the bulk scope; send Idempotency-Key to retry safely."
        ),
        parameters=[APP, IDEMPOTENCY_KEY],
        request=BulkJobRequest,
        responses={
            201: OpenApiResponse(
                BulkJobAnswer,
                description=_("The job is queued; the Location header holds its address."),
            ),
            400: INVALID,
            403: refused(_("The token's role may not run bulk jobs, or not by this much.")),
        },
    )
    def post(self, request: Request) -> Response:
        app = self.app.name
        if not request.user.has_perm(RUN_BULK):
            audit_denied(
                operator=request.user, asked="bulk", refused=BULK_REFUSED, client_ip=self.client_ip
            )
            # The audit row keeps the English sentence; the client reads it in its language
            # (the bulk services mark the same sentence for translation).
            raise Problem("forbidden", status=403, detail=gettext(BULK_REFUSED))
        body = BulkJobRequest(data=request.data)
        body.is_valid(raise_exception=True)
        allowed = mute_permissions(request.user)
        data = change_form_data(body.validated_data) | {
            "operation": body.validated_data["operation"],
            # Each account was checked above: none holds a line break.
            "accounts": "\n".join(body.validated_data["accounts"]),
            "confirm": "1",
        }
        form = BulkForm(
            data=data,
            can_change=allowed.change,
            can_mute_permanently=allowed.mute_permanently,
            # Bulk jobs take no requests for approval: a length above the limit is refused.
            allowed=allowed if allowed.change else None,
            rules=rules_active(),
        )
        if not form.is_valid():
            audited = bulk_form_refusal_audit(
                form=form, operator=request.user, client_ip=self.client_ip, app=app
            )
            errors = form_errors(form, names=FIELD_NAMES)
            if audited:
                raise Problem("forbidden", status=403, detail=errors[0]["message"], errors=errors)
            raise invalid(errors)
        return idempotent(request, lambda: self.start(form, app=app))

    def start(self, form: BulkForm, *, app: str) -> Response:
        job = bulk_job_submit(form=form, operator=self.request.user, app=app)
        location = reverse("api:bulk_job", args=[job.pk])
        body = {"id": job.pk, **bulk_job_status(job=job)}
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})


class BulkJobView(ApiView):
    """GET: the job's progress, the same fields as its page's status.json."""

    scopes = {"GET": "bulk"}
    permissions = {"GET": RUN_BULK}

    @extend_schema(
        operation_id="bulk_status",
        summary=_("A bulk job's progress"),
        description=_("The same fields as the job page's status. Needs the bulk scope."),
        parameters=[JOB_ID],
        responses={
            200: OpenApiResponse(BulkStatusSerializer, description=_("The job's progress.")),
            404: NO_JOB,
        },
    )
    def get(self, request: Request, job_id: int) -> Response:
        job = get_object_or_404(BulkJob, pk=job_id)
        # As polling the page's status.json does, a job whose workers died is queued again.
        if not job.finished and bulk_jobs_recover(job_id=job.pk, queue=task_queue):
            job.refresh_from_db()
        return Response(bulk_job_status(job=job))


class BulkResultsView(ApiView):
    """GET: each account's outcome in list order, a page at a time, once the job is over."""

    scopes = {"GET": "bulk"}
    permissions = {"GET": RUN_BULK}
    page_size = 100

    @extend_schema(
        operation_id="bulk_results",
        summary=_("A bulk job's results"),
        description=_(
            "Each account's outcome in list order, 100 a page, once the job is over. Needs the "
            "bulk scope."
        ),
        parameters=[
            JOB_ID,
            OpenApiParameter("cursor", OpenApiTypes.STR, description=NEXT_CURSOR),
            OpenApiParameter(
                "outcome",
                OpenApiTypes.STR,
                enum=list(RESULT_OUTCOMES),
                description=_("Only the accounts with this outcome."),
            ),
        ],
        responses={
            200: OpenApiResponse(BulkResultsPage, description=_("A page of results.")),
            400: INVALID,
            404: NO_JOB,
            409: refused(_("The job is not finished yet; ask again once it is.")),
        },
    )
    def get(self, request: Request, job_id: int) -> Response:
        job = get_object_or_404(BulkJob, pk=job_id)
        if not job.finished:
            raise Problem("not-finished", status=409, detail=RESULTS_NOT_READY)
        outcome = request.query_params.get("outcome", "")
        if outcome and outcome not in RESULT_OUTCOMES:
            raise invalid(
                [
                    {
                        "field": "outcome",
                        "message": gettext("Choose an outcome of: %(outcomes)s.")
                        % {"outcomes": ", ".join(RESULT_OUTCOMES)},
                        "code": "invalid_choice",
                    }
                ]
            )
        cursor = request.query_params.get("cursor", "").strip()
        try:
            after = RESULTS_KEYSET.decode(cursor)[0] if cursor else 0
        except CursorError:
            raise invalid(
                [
                    {
                        "field": "cursor",
                        "message": gettext(
                            "The cursor is damaged; start again from the first page."
                        ),
                        "code": "cursor",
                    }
                ]
            ) from None
        page = results_page(job=job, after=after, size=self.page_size, outcome=outcome)
        next_url = None
        if page.next_after is not None:
            next_url = self.page_url(cursor=RESULTS_KEYSET.encode((page.next_after,)))
        return Response(
            {"results": [_result(item) for item in page.items], "next": next_url, "previous": None}
        )


def _result(item: BulkItem) -> dict:
    return {
        "position": item.position,
        "account": item.account,
        "outcome": bulk_item_outcome(item.state),
        "error_code": item.error_code,
        "error_info": item.error_info,
        "c2c_observed": item.c2c_observed,
        "group_observed": item.group_observed,
    }
