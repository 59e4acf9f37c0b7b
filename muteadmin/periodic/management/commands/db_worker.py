"""`manage.py db_worker`: django-tasks-db's worker, first making sure a periodic tick is queued.

The periodic app is listed before django_tasks_db in INSTALLED_APPS so that this command is the
one `manage.py` runs; everything else is the library's.
"""

from django.utils.translation import gettext
from django_tasks_db.management.commands.db_worker import Command as WorkerCommand

from muteadmin.periodic.services import periodic_ensure
from muteadmin.periodic.tasks import tick_queue


class Command(WorkerCommand):
    @property
    def help(self) -> str:
        return (
            f"{WorkerCommand.help} {gettext('Queues the periodic tick first unless one is alive.')}"
        )

    def handle(self, *args, **options) -> None:
        periodic_ensure(queue=tick_queue)
        return super().handle(*args, **options)
