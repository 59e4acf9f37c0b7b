"""Bulk jobs: create one from a confirmed list, cancel it, and queue again those whose workers died.

Running a job's accounts is muteadmin.bulk.runner's; the queue its tasks wait in is passed in
(muteadmin.bulk.tasks.task_queue), so this module knows nothing of the task backend.
"""

import logging
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_record
from muteadmin.bulk.models import BulkItem, BulkJob
from muteadmin.bulk.stale_guard import audit_head_id
from muteadmin.mutes.permissions import mute_change_checked
from muteadmin.tencent.accounts import validate_account
from muteadmin.upstream.registry import tim_app

logger = logging.getLogger(__name__)

# A job is split into this many accounts per queued task, and at most MAX_TASKS_PER_JOB tasks,
# so that several workers can share a big job while a small one costs one task.
ACCOUNTS_PER_TASK = 100
MAX_TASKS_PER_JOB = 4
ITEM_INSERT_BATCH = 2_000
# An unfinished job nobody has touched for this long is queued again.
JOB_STALE_SECONDS = 60.0


class JobQueue(Protocol):
    """Where a job's tasks wait for a worker."""

    def enqueue(self, *, job_id: int) -> str:
        """Queue one task that works on the job; return its id."""

    def waiting(self, task_ids: list[str]) -> bool:
        """Whether any of these tasks is still waiting in line."""


def bulk_max_accounts() -> int:
    """How many accounts one job holds at most; larger lists are split into several jobs."""
    return settings.BULK_MAX_ACCOUNTS


def bulk_task_count(*, accounts: int) -> int:
    """How many tasks to queue for this many accounts still to do."""
    return max(1, min(MAX_TASKS_PER_JOB, math.ceil(accounts / ACCOUNTS_PER_TASK)))


def bulk_job_create(
    *,
    operator: AbstractBaseUser,
    operation: str,
    accounts: Sequence[str],
    queue: JobQueue,
    c2c_seconds: int | None = None,
    group_seconds: int | None = None,
    reason: str = "",
    app: str | None = None,
    rule: str | None = None,
    notice_language: str = "",
    follow_up_of: BulkJob | None = None,
    starts_at: datetime | None = None,
) -> BulkJob:
    """Store a job and its accounts, and queue its tasks once that is committed (at
    `starts_at`, if given, by the worker: schedule.py). `app`: the Chat app (None: the default;
    ValueError for a name not configured). `notice_language` (a change only): each account is
    sent a notice in it after its change. `follow_up_of`: the job whose accounts it takes up.
    """
    try:
        app_name = tim_app(app).name
    except KeyError:
        raise ValueError(f"There is no Chat app named {app!r} here.") from None
    c2c_seconds, group_seconds, reason = _request_checked(
        operator=operator,
        operation=operation,
        c2c_seconds=c2c_seconds,
        group_seconds=group_seconds,
        reason=reason,
        app=app_name,
    )
    _accounts_checked(accounts)
    with transaction.atomic():
        job = BulkJob.objects.create(
            operation=operation,
            app=app_name,
            c2c_seconds=c2c_seconds,
            group_seconds=group_seconds,
            reason=reason,
            rule=(rule or "") if operation != BulkJob.Operation.LOOKUP else "",
            notice_language=notice_language if operation != BulkJob.Operation.LOOKUP else "",
            created_by=operator,
            created_by_username=operator.get_username(),
            total=len(accounts),
            follow_up_of=follow_up_of,
            starts_at=starts_at,
            seen_audit_id=audit_head_id() if starts_at is not None else None,
            state=BulkJob.State.SCHEDULED if starts_at is not None else BulkJob.State.QUEUED,
        )
        BulkItem.objects.bulk_create(
            (
                BulkItem(job=job, position=position, account=account)
                for position, account in enumerate(accounts, 1)
            ),
            batch_size=ITEM_INSERT_BATCH,
        )
        if starts_at is None:
            _queued_on_commit(job, accounts=len(accounts), queue=queue)
    return job


def _queued_on_commit(job: BulkJob, *, accounts: int, queue: JobQueue) -> None:
    # After the commit, so no worker looks for the job before it exists; a crash in between
    # leaves a queued job without tasks, which recovery queues again.
    tasks = bulk_task_count(accounts=accounts)
    transaction.on_commit(lambda: bulk_job_enqueue(job_id=job.pk, tasks=tasks, queue=queue))


def _request_checked(
    *,
    operator: AbstractBaseUser,
    operation: str,
    c2c_seconds: int | None,
    group_seconds: int | None,
    reason: str,
    app: str,
) -> tuple[int | None, int | None, str]:
    """What the operation asks of Tencent, once the operator may ask it."""
    if not operator.has_perm("bulk.run_bulk"):
        raise PermissionDenied(_("You may not run bulk jobs."))
    if operation == BulkJob.Operation.LOOKUP:
        return None, None, ""
    if operation == BulkJob.Operation.LIFT:
        c2c_seconds = group_seconds = 0
    elif operation == BulkJob.Operation.SET:
        if c2c_seconds is None and group_seconds is None:
            raise ValueError(_("Choose a new C2C or group mute, or both."))
    else:
        raise ValueError(f"Unknown bulk operation {operation!r}.")
    # A refusal here is audited (`denied`, asked "bulk"): the form refuses first as a rule.
    mute_change_checked(
        operator=operator,
        c2c_seconds=c2c_seconds,
        group_seconds=group_seconds,
        asked="bulk",
        reason=reason,
        app=app,
    )
    if not reason:
        raise ValueError(_("Give a reason: it is kept in the audit log."))
    return c2c_seconds, group_seconds, reason


def _accounts_checked(accounts: Sequence[str]) -> None:
    if not accounts:
        raise ValueError("A job needs at least one account.")
    limit = bulk_max_accounts()
    if len(accounts) > limit:
        raise ValueError(f"A job takes at most {limit:,} accounts.")
    if len(set(accounts)) != len(accounts):
        raise ValueError("Each account may appear once in a job.")
    for account in accounts:
        validate_account(account)


def bulk_job_enqueue(*, job_id: int, tasks: int, queue: JobQueue) -> list[str]:
    """Queue `tasks` tasks that all work on the job, and remember their ids on it."""
    ids = [queue.enqueue(job_id=job_id) for _ in range(tasks)]
    with transaction.atomic():
        job = BulkJob.objects.select_for_update().filter(pk=job_id).first()
        if job is not None:
            job.task_ids = [*job.task_ids, *ids]
            job.save(update_fields=["task_ids"])
    return ids


def bulk_job_cancel(
    *,
    job: BulkJob,
    operator: AbstractBaseUser | None = None,
    client_ip: str | None = None,
) -> BulkJob:
    """Stop sending: a queued job ends at once, a running one when its calls in flight end.

    Accounts put back for later are not tried again: they end with the failure they last met.
    The first to cancel is recorded on the job and in an audit row (`cancel`); cancelling a
    job already cancelled or finished changes nothing and records nothing.
    """
    now = timezone.now()
    who = {
        "cancel_requested": True,
        "cancelled_by": operator if operator is not None and operator.is_authenticated else None,
        "cancelled_by_username": operator.get_username() if operator is not None else "",
        "cancelled_at": now,
    }
    jobs = BulkJob.objects.filter(pk=job.pk, cancel_requested=False)
    # Each a single UPDATE: a worker starting the job at the same moment sees one or the other.
    state = BulkJob.State.QUEUED
    cancelled = jobs.filter(state__in=(state, BulkJob.State.SCHEDULED)).update(
        **who, state=BulkJob.State.CANCELLED, finished_at=now
    )
    if not cancelled:
        state = BulkJob.State.RUNNING
        cancelled = jobs.filter(state=state).update(**who)
    job.refresh_from_db()
    if cancelled:
        # After the job's UPDATE has committed, never holding its row while the audit chain's
        # lock is awaited (workers take them the other way round).
        audit_record(
            operator=operator,
            action=AuditEntry.Action.CANCEL,
            client_ip=client_ip,
            job_id=job.pk,
            app=job.app,
            details={"state": state, "done": job.done, "total": job.total},
        )
    return job


def bulk_jobs_recover(
    *,
    queue: JobQueue,
    job_id: int | None = None,
    exclude_job_id: int | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Queue again every unfinished job nobody has touched for JOB_STALE_SECONDS; return their ids.

    A job whose task is still waiting in the queue is left alone: it is in line, not lost.
    """
    now = now or timezone.now()
    horizon = now - timedelta(seconds=JOB_STALE_SECONDS)
    stale = BulkJob.objects.filter(state__in=[BulkJob.State.QUEUED, BulkJob.State.RUNNING]).filter(
        Q(heartbeat_at__lt=horizon) | Q(heartbeat_at__isnull=True, created_at__lt=horizon)
    )
    if job_id is not None:
        stale = stale.filter(pk=job_id)
    if exclude_job_id is not None:
        stale = stale.exclude(pk=exclude_job_id)
    recovered = []
    for job in stale.only("id", "heartbeat_at", "task_ids", "total", "done"):
        if queue.waiting(job.task_ids):
            continue
        # Whoever moves the heartbeat first queues the job; other callers see it fresh.
        same = BulkJob.objects.filter(pk=job.pk)
        if job.heartbeat_at is None:
            same = same.filter(heartbeat_at__isnull=True)
        else:
            same = same.filter(heartbeat_at=job.heartbeat_at)
        if same.update(heartbeat_at=now):
            logger.warning("Bulk job %d had no live worker; queued it again.", job.pk)
            tasks = bulk_task_count(accounts=job.total - job.done)
            bulk_job_enqueue(job_id=job.pk, tasks=tasks, queue=queue)
            recovered.append(job.pk)
    return recovered
