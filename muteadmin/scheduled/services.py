"""Scheduling mute changes, cancelling them, and the worker's run of those whose time has come.

A scheduled change is checked against the scheduler's limits when it is made and again when it
runs (a role taken away in between stops it); above them it waits as a mute request, and once
a Lead approves it, it is checked against the approver's limits instead. The worker's calls are
audited as the scheduler, on behalf of the person who scheduled it. The account's mutes are
queried when it is scheduled; when it runs, the change is made only if they are still what that
query saw, run down by the time since (the account page's stale guard): a change made
elsewhere in between skips it, with a `drift` audit row saying what was expected and found.
"""

from datetime import datetime, timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from muteadmin.approvals.models import MuteRequest
from muteadmin.audit.models import AuditEntry
from muteadmin.audit.operators import SCHEDULER
from muteadmin.audit.services import audit_record
from muteadmin.core.durations import requested_in_words
from muteadmin.mutes.permissions import mute_change_checked
from muteadmin.mutes.seen import SeenMutes, StaleMuteState
from muteadmin.mutes.services import MuteChangeNotSent, mute_change, mute_get
from muteadmin.robots.events import notify_event
from muteadmin.robots.models import EVENT_DRIFT
from muteadmin.scheduled.models import ScheduledChange
from muteadmin.tencent.errors import TencentError
from muteadmin.upstream.registry import tim_app

CANCEL_ANY_PERMISSION = "scheduled.cancel_any_scheduled"
# A change is scheduled at least this far ahead (else make it now) and at most this far.
SOONEST = timedelta(minutes=1)
LATEST = timedelta(days=366)
# A change still running this long after a worker claimed it was left by a worker that stopped:
# it is marked "outcome unknown", never run a second time.
ABANDONED_AFTER = timedelta(minutes=10)
# At most this many due changes per run of the periodic job; the next run takes the rest.
RUN_BATCH = 50


class ScheduleRefused(ValueError):
    """The change cannot be scheduled as asked; the message says why and what to do."""


def scheduled_create(
    *,
    account: str,
    operator: AbstractBaseUser,
    run_at: datetime,
    reason: str,
    c2c_seconds: int | None = None,
    group_seconds: int | None = None,
    rule: str | None = None,
    app: str | None = None,
    client_ip: str | None = None,
    now: datetime | None = None,
) -> ScheduledChange:
    """Schedule a change of `account`'s mutes at `run_at`, within the operator's own limits.

    Raises ScheduleRefused for a time too soon or too far, PermissionDenied (ApprovalRequired
    above the operator's limit; audited `denied`), or the error of the query that records the
    account's mutes now (InvalidAccount, TencentError).
    """
    if c2c_seconds is None and group_seconds is None:
        raise ScheduleRefused(_("Choose a new C2C mute, a new group mute, or both."))
    scheduled_time_checked(run_at, now=now or timezone.now())
    target = tim_app(app).name
    mute_change_checked(
        operator=operator,
        c2c_seconds=c2c_seconds,
        group_seconds=group_seconds,
        asked="schedule",
        account=account,
        reason=reason,
        client_ip=client_ip,
        app=target,
    )
    scheduled = ScheduledChange(
        app=target,
        account=account,
        c2c_seconds=c2c_seconds,
        group_seconds=group_seconds,
        reason=reason,
        rule=rule or "",
        run_at=run_at,
        created_by=operator,
        created_by_username=operator.get_username(),
    )
    return _guarded_save(scheduled, operator=operator, client_ip=client_ip)


def scheduled_from_request(
    *, request: MuteRequest, approver: AbstractBaseUser, client_ip: str | None = None
) -> ScheduledChange:
    """Schedule the change an approved request asked for at its time, within `approver`'s limit.

    It runs as the scheduler on the requester's behalf, checked against the approver's limit
    (as approving checks it). Its time may have passed while the request waited: it then runs
    on the worker's next pass, its time kept as asked. The account's mutes are queried now to
    guard it, so the query's error (TencentError) means nothing was scheduled.
    """
    scheduled = ScheduledChange(
        app=request.app,
        account=request.account,
        c2c_seconds=request.c2c_seconds,
        group_seconds=request.group_seconds,
        reason=request.reason,
        rule=request.rule,
        run_at=request.run_at,
        created_by=request.requested_by,
        created_by_username=request.requested_by_username,
        approved_by=approver,
        approved_by_username=approver.get_username(),
        correlation_id=request.correlation_id,
    )
    return _guarded_save(
        scheduled, operator=approver, client_ip=client_ip, on_behalf_of=request.requested_by
    )


def _guarded_save(
    scheduled: ScheduledChange,
    *,
    operator: AbstractBaseUser,
    client_ip: str | None,
    on_behalf_of: AbstractBaseUser | None = None,
) -> ScheduledChange:
    """Record the account's mutes now (the stale guard's picture), then save and audit it."""
    status = mute_get(
        account=scheduled.account,
        operator=operator,
        client_ip=client_ip,
        app=scheduled.app,
        correlation_id=scheduled.correlation_id,
        on_behalf_of=on_behalf_of,
    )
    scheduled.seen_c2c = status.c2c_seconds
    scheduled.seen_group = status.group_seconds
    scheduled.seen_at = status.observed_at
    with transaction.atomic():
        scheduled.save()
        _audit(
            scheduled,
            operator=operator,
            said=f"scheduled for {_moment(scheduled.run_at)}",
            client_ip=client_ip,
        )
    return scheduled


def scheduled_time_checked(run_at: datetime, *, now: datetime) -> None:
    """ScheduleRefused unless `run_at` is between a minute and a year from `now`."""
    if run_at < now + SOONEST:
        raise ScheduleRefused(
            _(
                "Pick a time at least a minute from now; to change the mutes now, use the "
                "account page."
            )
        )
    if run_at > now + LATEST:
        raise ScheduleRefused(_("Pick a time within a year from now."))


def scheduled_cancel(
    *, scheduled_id: int, operator: AbstractBaseUser, client_ip: str | None = None
) -> ScheduledChange:
    """Cancel a waiting change: the scheduler's own, or anyone's with CANCEL_ANY_PERMISSION.

    Raises PermissionDenied, or ScheduleRefused when it is no longer waiting.
    """
    with transaction.atomic():
        scheduled = ScheduledChange.objects.select_for_update().get(pk=scheduled_id)
        own = scheduled.created_by_id == operator.pk
        if not own and not operator.has_perm(CANCEL_ANY_PERMISSION):
            raise PermissionDenied(_("Only its scheduler or a Lead may cancel this change."))
        if scheduled.state != ScheduledChange.State.WAITING:
            raise ScheduleRefused(
                _(
                    "Scheduled change #%(number)s is %(state)s: only a waiting change can be "
                    "cancelled."
                )
                % {"number": scheduled.pk, "state": scheduled.get_state_display().lower()}
            )
        scheduled.state = ScheduledChange.State.CANCELLED
        scheduled.finished_at = timezone.now()
        scheduled.cancelled_by_username = operator.get_username()
        scheduled.outcome_message = f"Cancelled by {operator.get_username()}."
        scheduled.save()
        _audit(scheduled, operator=operator, said="cancelled", client_ip=client_ip)
    return scheduled


def scheduled_run_due(*, now: datetime | None = None, limit: int = RUN_BATCH) -> list[int]:
    """Run the waiting changes whose time has come (the periodic job); their ids.

    Each is claimed with a conditional UPDATE before it runs, so of several workers exactly one
    runs it, and a worker restarted afterwards finds it claimed: none runs twice.
    """
    now = now or timezone.now()
    _abandoned_mark(now=now)
    due = ScheduledChange.objects.filter(
        state=ScheduledChange.State.WAITING, run_at__lte=now
    ).values_list("pk", flat=True)[:limit]
    ran = []
    for pk in list(due):
        claimed = ScheduledChange.objects.filter(pk=pk, state=ScheduledChange.State.WAITING).update(
            state=ScheduledChange.State.RUNNING, started_at=timezone.now()
        )
        if claimed:
            _run(ScheduledChange.objects.get(pk=pk))
            ran.append(pk)
    return ran


def _run(scheduled: ScheduledChange) -> None:
    """Make the change as its scheduler, guarded by the state seen when it was scheduled."""
    state, message = ScheduledChange.State.DONE, ""
    try:
        if scheduled.created_by is None:
            raise PermissionDenied("Its scheduler's account no longer exists.")
        # An approved change runs within its approver's limit, on the scheduler's behalf.
        approved = bool(scheduled.approved_by_username)
        if approved and scheduled.approved_by is None:
            raise PermissionDenied(_("The account of the Lead who approved it no longer exists."))
        mute_change(
            account=scheduled.account,
            operator=scheduled.approved_by if approved else scheduled.created_by,
            on_behalf_of=scheduled.created_by if approved else None,
            by_scheduler=True,
            reason=scheduled.reason,
            c2c_seconds=scheduled.c2c_seconds,
            group_seconds=scheduled.group_seconds,
            app=scheduled.app,
            rule=scheduled.rule or None,
            expected=SeenMutes(
                c2c_seconds=scheduled.seen_c2c,
                group_seconds=scheduled.seen_group,
                seen_at=scheduled.seen_at,
            ),
            correlation_id=scheduled.correlation_id,
        )
    except StaleMuteState as exc:
        state, message = ScheduledChange.State.SKIPPED, _drift_sentence(scheduled, exc)
        _drift_audit(scheduled, exc, message=message)
    except MuteChangeNotSent as exc:
        state = ScheduledChange.State.FAILED
        message = f"Nothing was changed: the query before it failed. {exc.error.moderator_message}"
    except TencentError as exc:
        state, message = ScheduledChange.State.FAILED, exc.moderator_message
    except PermissionDenied as exc:
        state, message = ScheduledChange.State.FAILED, f"Not made: {exc}"
    ScheduledChange.objects.filter(pk=scheduled.pk).update(
        state=state, finished_at=timezone.now(), outcome_message=message
    )


def _abandoned_mark(*, now: datetime) -> None:
    ScheduledChange.objects.filter(
        state=ScheduledChange.State.RUNNING, started_at__lt=now - ABANDONED_AFTER
    ).update(
        state=ScheduledChange.State.UNKNOWN,
        finished_at=now,
        outcome_message=(
            "The worker stopped while making this change; it was not made again. Check the "
            "account's mutes and the audit log."
        ),
    )


def _drift_sentence(scheduled: ScheduledChange, exc: StaleMuteState) -> str:
    found = exc.status
    return (
        f"Skipped: the account's {' and '.join(exc.kinds)} mute changed after it was scheduled "
        f"(expected C2C {requested_in_words(scheduled.seen_c2c)}, group "
        f"{requested_in_words(scheduled.seen_group)} as of {_moment(scheduled.seen_at)}, run "
        f"down since; found C2C {requested_in_words(found.c2c_seconds)}, group "
        f"{requested_in_words(found.group_seconds)}). Schedule it again if it is still wanted."
    )


def _drift_audit(scheduled: ScheduledChange, exc: StaleMuteState, *, message: str) -> None:
    found = {"c2c": exc.status.c2c_seconds, "group": exc.status.group_seconds}
    expected = {"c2c": scheduled.seen_c2c, "group": scheduled.seen_group}
    notify_event(
        EVENT_DRIFT,
        account=scheduled.account,
        app=scheduled.app,
        scheduled=f"#{scheduled.pk}",
        **{f"expected_{kind}": expected[kind] for kind in exc.kinds},
        **{f"found_{kind}": found[kind] for kind in exc.kinds},
    )
    audit_record(
        operator=SCHEDULER,
        action=AuditEntry.Action.DRIFT,
        account=scheduled.account,
        app=scheduled.app,
        reason=scheduled.reason,
        c2c_requested=scheduled.c2c_seconds,
        group_requested=scheduled.group_seconds,
        on_behalf_of=scheduled.created_by_username,
        correlation_id=scheduled.correlation_id,
        error_info=message,
        details={
            "scheduled": scheduled.pk,
            "by": "scheduler",
            "expected": expected,
            "expected_at": scheduled.seen_at.isoformat(),
            "found": found,
        },
    )


def _audit(
    scheduled: ScheduledChange,
    *,
    operator: AbstractBaseUser,
    said: str,
    client_ip: str | None = None,
) -> None:
    # An approved change's rows name its approver, on its scheduler's behalf.
    requester = scheduled.created_by_username if scheduled.approved_by_username else None
    audit_record(
        operator=operator,
        on_behalf_of=requester if requester != operator.get_username() else None,
        action=AuditEntry.Action.SCHEDULED,
        account=scheduled.account,
        app=scheduled.app,
        reason=scheduled.reason,
        rule=scheduled.rule or None,
        c2c_requested=scheduled.c2c_seconds,
        group_requested=scheduled.group_seconds,
        client_ip=client_ip,
        correlation_id=scheduled.correlation_id,
        details={"scheduled": scheduled.pk, "run_at": scheduled.run_at.isoformat(), "did": said},
    )


def _moment(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%Y-%m-%d %H:%M:%S} ({local.tzname()})"
