"""Follow-up jobs: a finished job's failed accounts retried, or its unsent ones sent.

A follow-up is a new job asking the same of Tencent (operation, lengths, reason, app, rule,
notice) for those accounts only, linked to the old job by `follow_up_of`; whoever starts it
must be allowed to start it afresh.
"""

from django.contrib.auth.base_user import AbstractBaseUser

from muteadmin.bulk.models import BulkItem, BulkJob
from muteadmin.bulk.services import JobQueue, bulk_job_create

# What a follow-up takes up: the items in these states, and what the offer says of them.
FOLLOW_UPS = {
    "failed": ((BulkItem.State.ERROR,), "failed"),
    "not_sent": ((BulkItem.State.TODO, BulkItem.State.IN_FLIGHT), "was left unsent"),
}


def bulk_follow_up_accounts(*, job: BulkJob, which: str) -> list[str]:
    """The accounts of `job` a follow-up of kind `which` ("failed", "not_sent") would take."""
    states, _ = FOLLOW_UPS[which]
    items = BulkItem.objects.filter(job=job, state__in=states).order_by("position")
    return list(items.values_list("account", flat=True))


def bulk_job_follow_up(
    *, job: BulkJob, which: str, operator: AbstractBaseUser, queue: JobQueue
) -> BulkJob:
    """Start a job over `job`'s failed accounts ("failed") or its unsent ones ("not_sent").

    ValueError, in a sentence, when `job` is still running, `which` is neither, or no account
    is left to take up; PermissionDenied when the operator may not start such a job.
    """
    if which not in FOLLOW_UPS:
        raise ValueError("Choose to retry the failed accounts or to send the ones not sent.")
    if not job.finished:
        raise ValueError(
            f"Job #{job.pk} is still running: wait until it is done or cancelled, then try again."
        )
    accounts = bulk_follow_up_accounts(job=job, which=which)
    if not accounts:
        raise ValueError(f"No account of job #{job.pk} {FOLLOW_UPS[which][1]}: nothing to send.")
    return bulk_job_create(
        operator=operator,
        operation=job.operation,
        accounts=accounts,
        queue=queue,
        c2c_seconds=job.c2c_seconds,
        group_seconds=job.group_seconds,
        reason=job.reason,
        app=job.app,
        rule=job.rule or None,
        notice_language=job.notice_language,
        follow_up_of=job,
    )
