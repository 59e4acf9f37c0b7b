"""Bulk jobs that start later ("start at"): the worker queues each once its moment has come.

A scheduled job holds its accounts from the start and sends nothing until then; it can be
cancelled while it waits. Each is moved to "queued" with a conditional UPDATE before its tasks
are queued, so of several workers exactly one queues it, and a restarted worker never twice.
"""

from datetime import datetime

from django.utils import timezone

from muteadmin.bulk.models import BulkJob
from muteadmin.bulk.services import JobQueue, bulk_job_enqueue, bulk_task_count

# How often the worker looks for scheduled jobs whose time has come (muteadmin/periodic).
START_EVERY_SECONDS = 30


def bulk_jobs_start_due(*, queue: JobQueue, now: datetime | None = None) -> list[int]:
    """Queue every scheduled job whose `starts_at` has come; their ids."""
    now = now or timezone.now()
    due = BulkJob.objects.filter(state=BulkJob.State.SCHEDULED, starts_at__lte=now)
    started = []
    for job in due.only("pk", "total").order_by("starts_at", "pk"):
        claimed = BulkJob.objects.filter(pk=job.pk, state=BulkJob.State.SCHEDULED).update(
            state=BulkJob.State.QUEUED
        )
        if claimed:
            bulk_job_enqueue(job_id=job.pk, tasks=bulk_task_count(accounts=job.total), queue=queue)
            started.append(job.pk)
    return started
