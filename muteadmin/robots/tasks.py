"""The queue adapter: each delivery is a task run by `manage.py db_worker`; a retry is the same
task queued again to run no earlier than its backoff allows (the Tasks API's `run_after`)."""

from datetime import datetime

from django.tasks import task

from muteadmin.robots.delivery import delivery_attempt
from muteadmin.robots.models import Delivery


def delivery_enqueue(*, delivery_id: int, run_after: datetime | None = None) -> str:
    """Queue the delivery's next attempt (now, or at `run_after`); the task's id."""
    queued = robots_deliver.using(run_after=run_after) if run_after else robots_deliver
    return str(queued.enqueue(delivery_id=delivery_id).id)


@task()
def robots_deliver(delivery_id: int) -> str:
    """Attempt the delivery; if it is to be tried again, queue that attempt for later."""
    attempt = delivery_attempt(delivery_id=delivery_id)
    if attempt.status == Delivery.Status.RETRYING:
        delivery_enqueue(delivery_id=delivery_id, run_after=attempt.next_attempt_at)
    return attempt.status
