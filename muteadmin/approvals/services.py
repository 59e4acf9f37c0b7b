"""Mute requests: filing one, approving it (the change carried out for the requester),
rejecting it with a reason, and expiring those left undecided.

Every step writes an audit row in the same transaction as the step itself; the rows of one
request, and the query and change an approval makes, share the request's correlation id.
Deciding a request is a conditional UPDATE of a pending row, so of two Leads deciding at
once exactly one wins, and the other is told who did.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from muteadmin.approvals.announcements import request_filed_announced
from muteadmin.approvals.models import MuteRequest
from muteadmin.approvals.notices import request_notice_send
from muteadmin.audit.denials import audit_denied
from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_record
from muteadmin.core.clock import clock
from muteadmin.mutes.permissions import mute_change_checked, mute_permissions
from muteadmin.mutes.services import (
    MuteChangeNotSent,
    MuteChangeResult,
    mute_change,
)
from muteadmin.notices.services import notice_language_valid
from muteadmin.scheduled.models import ScheduledChange
from muteadmin.scheduled.services import scheduled_from_request, scheduled_time_checked
from muteadmin.tencent.accounts import InvalidAccount, validate_account
from muteadmin.tencent.errors import TencentError
from muteadmin.upstream.registry import tim_app

DECIDE_PERMISSION = "approvals.decide_muterequest"
# What carrying out an approved request can meet besides success: Tencent's refusal (of the
# query before the change, or of the change), the approver's own limit, an account or app no
# longer valid. Each leaves the request FAILED.
CHANGE_FAILURES = (TencentError, MuteChangeNotSent, PermissionDenied, InvalidAccount, KeyError)


class RequestClosed(Exception):
    """The request is no longer waiting: decided by someone else, or expired."""


def mute_request_now() -> datetime:
    """The time requests are filed and expire by: the clock in force (a test's fake)."""
    return datetime.fromtimestamp(clock().time(), UTC)


def mute_request_ttl() -> timedelta:
    """How long a request waits for a decision (MUTE_REQUEST_TTL_HOURS)."""
    return timedelta(hours=settings.MUTE_REQUEST_TTL_HOURS)


def _asked_checked(
    c2c_seconds: int | None,
    group_seconds: int | None,
    *,
    reason: str,
    notice: str,
    at: datetime | None,
) -> None:
    """ValueError (ScheduleRefused for the time `at`) when the request cannot be filed as asked."""
    if c2c_seconds is None and group_seconds is None:
        raise ValueError(_("Choose a new C2C or group mute, or both."))
    if not reason.strip():
        raise ValueError(_("Give a reason: the Lead deciding the request reads it."))
    if notice and not notice_language_valid(notice):
        raise ValueError(_("Choose English or Simplified Chinese for the notice."))
    if at is not None:
        scheduled_time_checked(at, now=timezone.now())


def mute_request_file(
    *,
    requester: AbstractBaseUser,
    account: str,
    reason: str,
    c2c_seconds: int | None = None,
    group_seconds: int | None = None,
    app: str | None = None,
    client_ip: str | None = None,
    rule: str | None = None,
    notice_language: str = "",
    run_at: datetime | None = None,
) -> MuteRequest:
    """File a request for a change above the requester's limit, for a Lead to decide; with
    `notice_language`, the account is sent a notice in it once the change is made; with
    `run_at`, approving schedules the change for then (muteadmin.scheduled) instead of making it.

    Raises PermissionDenied for someone who may not change mutes, InvalidAccount, KeyError for
    an app not configured, ValueError when nothing is asked, no reason given or `run_at` is not
    between a minute and a year away, and RequestClosed while another request waits for it.
    """
    if not mute_permissions(requester).change:
        raise PermissionDenied(_("You may not change mutes, so you may not request a change."))
    validate_account(account)
    app_name = tim_app(app).name
    _asked_checked(c2c_seconds, group_seconds, reason=reason, notice=notice_language, at=run_at)
    mute_requests_expire()
    now = mute_request_now()
    try:
        with transaction.atomic():
            request = MuteRequest.objects.create(
                app=app_name,
                account=account,
                c2c_seconds=c2c_seconds,
                group_seconds=group_seconds,
                reason=reason,
                rule=rule or "",
                notice_language=notice_language,
                run_at=run_at,
                requested_by=requester,
                requested_by_username=requester.get_username(),
                created_at=now,
                expires_at=now + mute_request_ttl(),
            )
            _step_audited(
                request,
                action=AuditEntry.Action.REQUEST_FILED,
                operator=requester,
                client_ip=client_ip,
            )
            request_filed_announced(request)
    except IntegrityError:
        raise RequestClosed(
            _(
                "A request for %(account)s is already waiting for a Lead's approval; "
                "it must be decided or expire before another is filed."
            )
            % {"account": account}
        ) from None
    return request


@dataclass(frozen=True)
class ApprovalResult:
    """An approved request and what carrying it out gave: the change, or why it failed."""

    request: MuteRequest
    change: MuteChangeResult | None
    error: Exception | None
    # The notice the request asked for: sent, or why not (None: none was asked for).
    notice_sent: bool = False
    notice_error: Exception | None = None
    # A request with a time: the change scheduled for it, instead of `change`.
    scheduled: ScheduledChange | None = None


def mute_request_approve(
    *, request_id: int, approver: AbstractBaseUser, client_ip: str | None = None
) -> ApprovalResult:
    """Approve a pending request and carry it out (or schedule it) as `approver` for its requester.

    Raises PermissionDenied for a non-Lead, the requester themselves, and an approver whose own
    limit does not cover it (it stays pending then); RequestClosed once decided or expired.
    """
    request = _decidable(
        request_id=request_id, decider=approver, asked="approve", client_ip=client_ip
    )
    requester = request.requested_by
    if requester is None:
        raise RequestClosed(_("The requester's account was deleted; reject the request instead."))
    # Refused (and audited as `denied`) when the approver's own limit does not cover it.
    mute_change_checked(
        operator=approver,
        c2c_seconds=request.c2c_seconds,
        group_seconds=request.group_seconds,
        on_behalf_of=requester,
        asked="approve",
        account=request.account,
        reason=request.reason,
        client_ip=client_ip,
        app=request.app,
    )
    with transaction.atomic():
        _claim(request, decider=approver, status=MuteRequest.Status.APPROVED)
        _step_audited(
            request,
            action=AuditEntry.Action.REQUEST_APPROVED,
            operator=approver,
            client_ip=client_ip,
        )
    if request.run_at is not None:
        return _scheduled_after(request, approver=approver, client_ip=client_ip)
    try:
        change = mute_change(
            account=request.account,
            operator=approver,
            on_behalf_of=requester,
            reason=request.reason,
            rule=request.rule or None,
            c2c_seconds=request.c2c_seconds,
            group_seconds=request.group_seconds,
            client_ip=client_ip,
            app=request.app,
            correlation_id=request.correlation_id,
        )
    except CHANGE_FAILURES as exc:
        cause = exc.error if isinstance(exc, MuteChangeNotSent) else exc
        message = getattr(cause, "moderator_message", None) or str(cause)
        MuteRequest.objects.filter(pk=request.pk).update(
            status=MuteRequest.Status.FAILED, outcome_message=message
        )
        request.refresh_from_db()
        return ApprovalResult(request=request, change=None, error=exc)
    error = request_notice_send(request, change=change, approver=approver, client_ip=client_ip)
    sent = bool(request.notice_language) and error is None
    return ApprovalResult(request, change, None, notice_sent=sent, notice_error=error)


def _scheduled_after(
    request: MuteRequest, *, approver: AbstractBaseUser, client_ip: str | None
) -> ApprovalResult:
    """Carry out an approved request with a time: schedule its change (FAILED if that fails)."""
    try:
        scheduled = scheduled_from_request(request=request, approver=approver, client_ip=client_ip)
    except CHANGE_FAILURES as exc:
        message = getattr(exc, "moderator_message", None) or str(exc)
        MuteRequest.objects.filter(pk=request.pk).update(
            status=MuteRequest.Status.FAILED, outcome_message=message
        )
        request.refresh_from_db()
        return ApprovalResult(request=request, change=None, error=exc)
    return ApprovalResult(request=request, change=None, error=None, scheduled=scheduled)


def mute_request_reject(
    *,
    request_id: int,
    decider: AbstractBaseUser,
    reason: str,
    client_ip: str | None = None,
) -> MuteRequest:
    """Reject a pending request, saying why (ValueError without a reason).

    Raises PermissionDenied as approving does, RequestClosed when it is no longer pending.
    """
    if not reason.strip():
        raise ValueError(_("Give a reason for rejecting the request: the requester reads it."))
    request = _decidable(
        request_id=request_id, decider=decider, asked="reject", client_ip=client_ip
    )
    with transaction.atomic():
        _claim(request, decider=decider, status=MuteRequest.Status.REJECTED, reason=reason)
        _step_audited(
            request,
            action=AuditEntry.Action.REQUEST_REJECTED,
            operator=decider,
            client_ip=client_ip,
            reason=reason,
        )
    return request


def mute_requests_expire(*, now: datetime | None = None) -> int:
    """Expire every pending request whose time is up, each with its audit row; return how many.

    Run whenever requests are read or decided, and by `manage.py mute_requests_expire`.
    """
    now = now or mute_request_now()
    due = MuteRequest.objects.filter(status=MuteRequest.Status.PENDING, expires_at__lte=now)
    if not due.exists():
        return 0
    expired = 0
    for request in due.order_by("expires_at", "id"):
        with transaction.atomic():
            won = MuteRequest.objects.filter(
                pk=request.pk, status=MuteRequest.Status.PENDING
            ).update(status=MuteRequest.Status.EXPIRED, decided_at=now)
            if won:
                request.status = MuteRequest.Status.EXPIRED
                _step_audited(request, action=AuditEntry.Action.REQUEST_EXPIRED, operator=None)
                expired += 1
    return expired


def _decidable(
    *, request_id: int, decider: AbstractBaseUser, asked: str, client_ip: str | None
) -> MuteRequest:
    """The request, if `decider` may decide it and it is still waiting.

    A refusal (not a Lead; the requester deciding their own request) is audited as `denied`,
    `asked` naming the decision (approve, reject).
    """
    if not decider.has_perm(DECIDE_PERMISSION):
        refused = _("Only Leads may approve or reject mute requests.")
        audit_denied(
            operator=decider,
            asked=asked,
            refused=refused,
            client_ip=client_ip,
            details={"request": request_id},
        )
        raise PermissionDenied(refused)
    mute_requests_expire()
    try:
        request = MuteRequest.objects.get(pk=request_id)
    except MuteRequest.DoesNotExist:
        raise RequestClosed(_("There is no such request.")) from None
    if request.requested_by_id == decider.pk:
        refused = _("You may not decide your own request: another Lead must approve or reject it.")
        audit_denied(
            operator=decider,
            asked=asked,
            refused=refused,
            account=request.account,
            c2c_requested=request.c2c_seconds,
            group_requested=request.group_seconds,
            client_ip=client_ip,
            app=request.app,
            correlation_id=request.correlation_id,
            details={"request": request.pk},
        )
        raise PermissionDenied(refused)
    if not request.is_pending:
        raise RequestClosed(_closed_sentence(request))
    return request


def _claim(
    request: MuteRequest, *, decider: AbstractBaseUser, status: str, reason: str = ""
) -> None:
    """Mark a pending, unexpired request decided; RequestClosed if someone else got there first.

    An expired request is left for mute_requests_expire to record (the caller's transaction
    is rolled back by the exception).
    """
    now = mute_request_now()
    won = MuteRequest.objects.filter(
        pk=request.pk, status=MuteRequest.Status.PENDING, expires_at__gt=now
    ).update(
        status=status,
        decided_by=decider,
        decided_by_username=decider.get_username(),
        decided_at=now,
        decision_reason=reason,
    )
    request.refresh_from_db()
    if not won:
        if request.is_pending:
            request.status = MuteRequest.Status.EXPIRED
        raise RequestClosed(_closed_sentence(request))


def _closed_sentence(request: MuteRequest) -> str:
    if request.status == MuteRequest.Status.EXPIRED:
        return _("Request #%(number)s expired before anyone decided it; it can be filed again.") % {
            "number": request.pk
        }
    return _("Request #%(number)s was already %(status)s by %(person)s.") % {
        "number": request.pk,
        "status": request.get_status_display().lower(),
        "person": request.decided_by_username or _("someone else"),
    }


def _step_audited(
    request: MuteRequest,
    *,
    action: str,
    operator: AbstractBaseUser | None,
    client_ip: str | None = None,
    reason: str | None = None,
) -> AuditEntry:
    """The audit row of one step of `request`: what it asks, for whom, and its number.

    The filing row's operator is the requester; later steps name the requester as
    `on_behalf_of` beside whoever decided (no one, for an expiry).
    """
    filed = action == AuditEntry.Action.REQUEST_FILED
    return audit_record(
        operator=operator,
        action=action,
        account=request.account,
        c2c_requested=request.c2c_seconds,
        group_requested=request.group_seconds,
        reason=request.reason if reason is None else reason,
        client_ip=client_ip,
        correlation_id=request.correlation_id,
        app=request.app,
        on_behalf_of=None if filed else request.requested_by_username,
        rule=request.rule or None,
        details={
            "request": request.pk,
            "expires_at": request.expires_at.isoformat(),
            **({"request_reason": request.reason} if reason is not None else {}),
        },
    )
