"""The queue adapter: the tick task, run by `manage.py db_worker` like any other task."""

from datetime import datetime

from django.tasks import TaskContext, TaskResultStatus, task
from django.tasks.exceptions import TaskResultDoesNotExist

from muteadmin.periodic.services import RUNNING, WAITING, periodic_tick


class TaskTickQueue:
    """Tick tasks in django.tasks' default backend (services.TickQueue)."""

    def enqueue(self, *, run_after: datetime | None) -> str:
        queued = periodic_tick_task.using(run_after=run_after) if run_after else periodic_tick_task
        return str(queued.enqueue().id)

    def state(self, task_id: str) -> str | None:
        try:
            result = periodic_tick_task.get_result(task_id)
        except TaskResultDoesNotExist:
            return None
        if result.status == TaskResultStatus.READY:
            return WAITING
        if result.status == TaskResultStatus.RUNNING:
            return RUNNING
        return None


tick_queue = TaskTickQueue()


@task(takes_context=True)
def periodic_tick_task(context: TaskContext) -> dict:
    """Queue the next tick, then run the periodic jobs that are due."""
    return periodic_tick(task_id=str(context.task_result.id), queue=tick_queue)
