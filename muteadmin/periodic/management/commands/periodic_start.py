"""`manage.py periodic_start`: queue the periodic tick unless one is alive already."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext

from muteadmin.periodic.services import periodic_ensure
from muteadmin.periodic.tasks import tick_queue


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return gettext(
            "Queue the periodic tick for the db_worker processes, unless one is queued or running "
            "already. migrate and every db_worker start do this too; safe to run any time."
        )

    def handle(self, *args, verbosity: int, **options) -> None:
        task_id = periodic_ensure(queue=tick_queue)
        if verbosity >= 1:
            if task_id:
                self.stdout.write(gettext("Queued the periodic tick %(task)s.") % {"task": task_id})
            else:
                self.stdout.write(gettext("A periodic tick is already queued or running."))
