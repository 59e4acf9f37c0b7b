"""Queue again every unfinished bulk job whose workers stopped (no heartbeat for a minute)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext

from muteadmin.bulk.services import JOB_STALE_SECONDS, bulk_jobs_recover
from muteadmin.bulk.tasks import task_queue


def _help() -> str:
    return gettext(
        "Queue again every queued or running bulk job nobody has worked on for "
        "%(seconds)s seconds (its worker died); `db_worker` then resumes it."
    ) % {"seconds": f"{JOB_STALE_SECONDS:.0f}"}


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return _help()

    def handle(self, *args, **options) -> None:
        recovered = bulk_jobs_recover(queue=task_queue)
        if recovered:
            ids = ", ".join(f"#{job_id}" for job_id in recovered)
            self.stdout.write(gettext("Queued again: %(jobs)s.") % {"jobs": ids})
        else:
            self.stdout.write(gettext("No bulk job needed picking up."))
