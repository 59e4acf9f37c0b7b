"""The background task behind a bulk job, run by `manage.py db_worker`."""

from typing import Any

from django.tasks import TaskContext, task

from muteadmin.bulk.services import bulk_job_run, bulk_jobs_recover, bulk_worker_name


@task(takes_context=True)
def bulk_job_drain(context: TaskContext, job_id: int) -> dict[str, Any]:
    """Work on a job's accounts beside the job's other tasks; whichever is last finishes it."""
    # Every task start is also a chance to rescue jobs whose workers died.
    bulk_jobs_recover(exclude_job_id=job_id)
    worker = bulk_worker_name(task_id=str(context.task_result.id))
    return bulk_job_run(job_id=job_id, worker=worker).as_dict()
