"""Follow-up jobs: a finished job's failed accounts retried, or its unsent ones sent.

A follow-up is a new job asking the same of Tencent (operation, lengths, reason, app, rule,
notice) for those accounts only, linked to the old job by `follow_up_of`; whoever starts it
must be allowed to start it afresh.
"""

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from muteadmin.bulk.models import BulkItem, BulkJob
from muteadmin.bulk.services import JobQueue, bulk_job_create

# What a follow-up takes up: the items in these states, and what the offer says of them.
FOLLOW_UPS = {
    "failed": (
        (BulkItem.State.ERROR,),
        gettext_lazy("No account of job #%(number)s failed: nothing to send."),
    ),
    "not_sent": (
        (BulkItem.State.TODO, BulkItem.State.IN_FLIGHT),
        gettext_lazy("No account of job #%(number)s was left unsent: nothing to send."),
    ),
}


def bulk_follow_up_accounts(*, job: BulkJob, which: str) -> list[str]:
    """The accounts of `job` a follow-up of kind `which` ("failed", "not_sent") would take."""
    states = FOLLOW_UPS[which][0]
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
        raise ValueError(_("Choose to retry the failed accounts or to send the ones not sent."))
    if not job.finished:
        raise ValueError(
            _(
                "Job #%(number)s is still running: wait until it is done or cancelled, "
                "then try again."
            )
            % {"number": job.pk}
        )
    accounts = bulk_follow_up_accounts(job=job, which=which)
    if not accounts:
        raise ValueError(FOLLOW_UPS[which][1] % {"number": job.pk})
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
