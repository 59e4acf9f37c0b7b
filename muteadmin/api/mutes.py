"""`/api/v1/mutes/{account}`: an account's mutes, and changing them as the account page does.

The change goes through the page's form (the same lengths, rule and reason rules) and the same
services: limits, the approval request above them (202), the stale guard (409), the query
before the change, the notice after it, and every audit row.
"""

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from muteadmin.api.base import ApiView, mute_state
from muteadmin.api.idempotency import idempotent
from muteadmin.api.openapi import APP, IDEMPOTENCY_KEY, INVALID, UPSTREAM, refused
from muteadmin.api.problems import Problem, form_errors, invalid, upstream
from muteadmin.api.serializers import (
    ApprovalRequestAnswer,
    MuteChangeAnswer,
    MuteChangeRequest,
    MuteStateSerializer,
)
from muteadmin.approvals.services import RequestClosed, mute_request_file
from muteadmin.audit.models import AuditEntry
from muteadmin.audit.selectors import audit_operation_last_id
from muteadmin.mutes.calls import MuteChangeResult
from muteadmin.mutes.forms import MuteChangeForm
from muteadmin.mutes.notice_delivery import notice_after_change
from muteadmin.mutes.permissions import ApprovalRequired, mute_permissions
from muteadmin.mutes.refusals import mute_change_refusal_audit
from muteadmin.mutes.seen import SeenMutes, StaleMuteState
from muteadmin.mutes.services import MuteChangeNotSent, mute_change, mute_get_many
from muteadmin.rules.selectors import rules_active
from muteadmin.tencent.accounts import InvalidAccount
from muteadmin.tencent.errors import TencentError
from muteadmin.tencent.nospeaking import MuteStatus

ACCOUNT = OpenApiParameter(
    "account",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    required=True,
    pattern="^[^/]+$",
    description=_("The account's UserID, percent-encoded twice as on the pages (for a /)."),
)
NO_ACCOUNT = refused(_("No such account, or no app of that name."))


def change_form_data(fields: dict[str, Any]) -> dict[str, str]:
    """The change form's fields from the API's JSON (a null or missing length: untouched)."""
    data = {
        "reason": fields.get("reason") or "",
        "rule": fields.get("rule") or "",
        "notice_language": fields.get("notice_language") or "",
    }
    for kind in ("c2c", "group"):
        seconds = fields.get(f"{kind}_seconds")
        data[f"{kind}_seconds"] = "" if seconds is None else str(seconds)
    if fields.get("notify"):
        data["notify"] = "on"
    return data


class MuteView(ApiView):
    """GET: the account's mutes, asked of Tencent now. POST: change them."""

    scopes = {"GET": "read", "POST": "change"}
    permissions = {"GET": "mutes.query_mute"}

    @extend_schema(
        operation_id="mutes_read",
        summary=_("An account's mutes"),
        description=_(
            "Asks Tencent now for the account's C2C and group mutes, and answers them with the "
            "audit row of that query. Needs the read scope."
        ),
        parameters=[ACCOUNT, APP],
        responses={
            200: OpenApiResponse(
                MuteStateSerializer, description=_("The mutes as Tencent answered them.")
            ),
            404: NO_ACCOUNT,
            502: UPSTREAM,
        },
    )
    def get(self, request: Request, account: str) -> Response:
        self.account_checked(account)
        app = self.app.name
        (call,) = mute_get_many(
            accounts=[account], operator=request.user, client_ip=self.client_ip, app=app
        )
        if isinstance(call.error, TencentError):
            raise upstream(call.error, detail=call.error.moderator_message)
        if call.error is not None:
            raise call.error
        return Response(mute_state(call.status, app=app, audit_id=call.entry_id))

    @extend_schema(
        operation_id="mutes_change",
        summary=_("Change an account's mutes"),
        description=_(
            "Changes the mutes as the account page's form does: the same lengths, rule and "
            "reason, role limits, notice and audit rows. Above the token role's limit nothing "
            "changes: a request for a Lead's approval is filed (202). Needs the change scope; "
            "send Idempotency-Key to retry safely."
        ),
        parameters=[ACCOUNT, APP, IDEMPOTENCY_KEY],
        request=MuteChangeRequest,
        responses={
            200: OpenApiResponse(
                MuteChangeAnswer,
                description=_("Done (or nothing to do): the mutes after, and before, the change."),
            ),
            202: OpenApiResponse(
                ApprovalRequestAnswer,
                description=_("Above the role's limit: a request for approval is waiting."),
            ),
            400: INVALID,
            403: refused(_("The token's role may not change mutes, or not by this much.")),
            404: NO_ACCOUNT,
            409: refused(
                _(
                    "The mutes moved since expected was read (current holds them now, changed "
                    "which moved), a request for the account is already waiting, or a request "
                    "with this Idempotency-Key is still running."
                )
            ),
            502: UPSTREAM,
        },
    )
    def post(self, request: Request, account: str) -> Response:
        self.account_checked(account)
        app = self.app.name
        allowed = mute_permissions(request.user)
        body = MuteChangeRequest(data=request.data)
        if not allowed.change:
            data = request.data if isinstance(request.data, dict) else {}
            mute_change_refusal_audit(
                operator=request.user,
                account=account,
                form=None,
                data={
                    name: "" if data.get(name) is None else str(data.get(name))
                    for name in ("c2c_seconds", "group_seconds")
                },
                client_ip=self.client_ip,
                app=app,
            )
            raise PermissionDenied(gettext("The token's role may not change mutes."))
        body.is_valid(raise_exception=True)
        form = MuteChangeForm(
            data=change_form_data(body.validated_data),
            allowed=allowed,
            can_mute_permanently=allowed.mute_permanently,
            offer_requests=True,
            rules=rules_active(),
        )
        if not form.is_valid():
            raise invalid(form_errors(form))
        expected = body.validated_data.get("expected")
        seen = None
        if expected:
            seen = SeenMutes(
                c2c_seconds=expected["c2c"]["remaining_seconds"],
                group_seconds=expected["group"]["remaining_seconds"],
                seen_at=expected["observed_at"],
            )
        return idempotent(request, lambda: self.change(account, app=app, form=form, seen=seen))

    def change(
        self, account: str, *, app: str, form: MuteChangeForm, seen: SeenMutes | None
    ) -> Response:
        cleaned = form.cleaned_data
        correlation_id = uuid.uuid4()
        asked = {
            "account": account,
            "reason": cleaned["reason"],
            "rule": cleaned["rule"],
            "c2c_seconds": cleaned["c2c_seconds"],
            "group_seconds": cleaned["group_seconds"],
            "app": app,
            "client_ip": self.client_ip,
        }
        try:
            result = mute_change(
                operator=self.request.user, expected=seen, correlation_id=correlation_id, **asked
            )
        except ApprovalRequired as exc:
            # As the page's request: a notice asked for is sent once a Lead approves it.
            language = (cleaned.get("notice_language") or "en") if cleaned["notify"] else ""
            return self.approval_request(asked | {"notice_language": language}, why=str(exc))
        except InvalidAccount as exc:
            raise Problem("not-found", status=404, detail=str(exc)) from None
        except StaleMuteState as exc:
            raise self.stale(exc, app=app, correlation_id=correlation_id) from None
        except MuteChangeNotSent as exc:
            raise upstream(
                exc.error, detail=exc.error.change_message(sent=False), sent=False
            ) from None
        except TencentError as exc:
            raise upstream(exc, detail=exc.change_message(sent=True), sent=True) from None
        return Response(self.answer(result, app=app, form=form, correlation_id=correlation_id))

    def approval_request(self, asked: dict[str, Any], *, why: str) -> Response:
        """Above the role's limit: a request for a Lead's approval, as "Request approval" files."""
        try:
            filed = mute_request_file(requester=self.request.user, **asked)
        except RequestClosed as exc:
            raise Problem("request-waiting", status=409, detail=str(exc)) from None
        body = {
            "request_id": filed.pk,
            "status": filed.status,
            "detail": gettext(
                "%(why)s Request #%(id)s is waiting for a Lead's approval; "
                "nothing changes until one approves it."
            )
            % {"why": why, "id": filed.pk},
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)

    def stale(self, exc: StaleMuteState, *, app: str, correlation_id: uuid.UUID) -> Problem:
        query_id = audit_operation_last_id(
            correlation_id=correlation_id, action=AuditEntry.Action.QUERY
        )
        return Problem(
            "stale-state",
            status=409,
            detail=gettext(
                "%(why)s Nothing was sent. Look at the current state and send the change again "
                "with it as `expected`, or without `expected` to make it regardless."
            )
            % {"why": exc},
            changed=list(exc.kinds),
            current=mute_state(exc.status, app=app, audit_id=query_id),
        )

    def answer(
        self, result: MuteChangeResult, *, app: str, form: MuteChangeForm, correlation_id
    ) -> dict[str, Any]:
        """What the change left: the state after, the state before, and the notice's outcome."""
        before = mute_state(
            result.before,
            app=app,
            audit_id=audit_operation_last_id(
                correlation_id=correlation_id, action=AuditEntry.Action.QUERY
            ),
        )
        observed = result.change.observed_at if result.change else result.before.observed_at
        after = mute_state(
            MuteStatus(
                account=result.before.account,
                c2c_seconds=result.c2c_after,
                group_seconds=result.group_after,
                observed_at=observed,
                random=0,
            ),
            app=app,
            audit_id=audit_operation_last_id(
                correlation_id=correlation_id, action=AuditEntry.Action.CHANGE
            )
            if result.change
            else None,
        )
        notice = None
        if form.cleaned_data["notify"]:
            outcome = notice_after_change(
                account=result.before.account,
                app=app,
                result=result,
                reason=form.cleaned_data["reason"],
                language=form.cleaned_data.get("notice_language") or "",
                correlation_id=correlation_id,
                operator=self.request.user,
                client_ip=self.client_ip,
                rule=form.cleaned_data["rule"] or "",
            )
            notice = {"sent": outcome.sent, "detail": outcome.sentence}
        return after | {
            "sent": result.change is not None,
            "not_muted": list(result.not_muted),
            "before": before,
            "notice": notice,
        }
