"""Queue again every unfinished bulk job whose workers stopped (no heartbeat for a minute)."""

from django.core.management.base import BaseCommand

from muteadmin.bulk.services import JOB_STALE_SECONDS, bulk_jobs_recover
from muteadmin.bulk.tasks import task_queue


class Command(BaseCommand):
    help = (
        f"Queue again every queued or running bulk job nobody has worked on for "
        f"{JOB_STALE_SECONDS:.0f} seconds (its worker died); `db_worker` then resumes it."
    )

    def handle(self, *args, **options) -> None:
        recovered = bulk_jobs_recover(queue=task_queue)
        if recovered:
            ids = ", ".join(f"#{job_id}" for job_id in recovered)
            self.stdout.write(f"Queued again: {ids}.")
        else:
            self.stdout.write("No bulk job needed picking up.")
