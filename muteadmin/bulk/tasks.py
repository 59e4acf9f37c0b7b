"""The queue adapter: the background task behind a bulk job, run by `manage.py db_worker`."""

from typing import Any

from django.conf import settings
from django.tasks import TaskContext, TaskResultStatus, task
from django.tasks.exceptions import TaskResultDoesNotExist

from muteadmin.bulk.leases import bulk_worker_name
from muteadmin.bulk.runner import RunnerConfig, bulk_job_run
from muteadmin.bulk.services import bulk_jobs_recover


class TaskQueue:
    """Bulk jobs' tasks in django.tasks' default backend (services.JobQueue)."""

    def enqueue(self, *, job_id: int) -> str:
        return str(bulk_job_drain.enqueue(job_id=job_id).id)

    def waiting(self, task_ids: list[str]) -> bool:
        if not bulk_job_drain.get_backend().supports_get_result:
            return False
        for task_id in task_ids:
            try:
                result = bulk_job_drain.get_result(task_id)
            except TaskResultDoesNotExist:
                continue
            if result.status == TaskResultStatus.READY:
                return True
        return False


task_queue = TaskQueue()


@task(takes_context=True)
def bulk_job_drain(context: TaskContext, job_id: int) -> dict[str, Any]:
    """Work on a job's accounts beside the job's other tasks; whichever is last finishes it."""
    # Every task start is also a chance to rescue jobs whose workers died.
    bulk_jobs_recover(queue=task_queue, exclude_job_id=job_id)
    worker = bulk_worker_name(task_id=str(context.task_result.id))
    config = RunnerConfig(threads=settings.BULK_WORKER_THREADS)
    return bulk_job_run(job_id=job_id, worker=worker, config=config).as_dict()
