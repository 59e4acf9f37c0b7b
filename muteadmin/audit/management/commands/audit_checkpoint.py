"""`manage.py audit_checkpoint`: write the audit chain's head outside the database now."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from muteadmin.audit.checkpoints import audit_checkpoint


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return gettext(
            "Write a checkpoint of the audit log's hash chain (last row, row count, head hash, "
            "time) to the log and to AUDIT_CHECKPOINT_PATH. Completions write one every 1,000 rows "
            "and at least hourly while rows complete, and the worker (db_worker) every "
            "AUDIT_CHECKPOINT_EVERY_MINUTES; where no worker runs, run this hourly (cron, or "
            "--every 3600) so quiet hours are covered too."
        )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            metavar="SECONDS",
            help=gettext("Keep running, writing one checkpoint every SECONDS (at least 60)."),
        )

    def handle(self, *args, every: int, verbosity: int, **options) -> None:
        if every and every < 60:
            raise CommandError(gettext("--every must be at least 60 seconds."))
        while True:
            line = audit_checkpoint()
            if verbosity >= 1:
                self.stdout.write(line)
            if not every:
                return
            time.sleep(every)
