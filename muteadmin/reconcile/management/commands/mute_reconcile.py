"""`manage.py mute_reconcile`: check with Tencent now, as the worker does every hour."""

from django.core.management.base import BaseCommand, CommandError

from muteadmin.reconcile.models import ReconcileRun
from muteadmin.reconcile.services import ReconcileBusy, ReconcileStopped, reconcile_run


class Command(BaseCommand):
    help = (
        "Ask Tencent again about every account the mute report shows as muted, every account "
        "changed in the last 7 days and the watchlist, within RECONCILE_SHARE of the cap, and "
        "record each difference from what muteadmin expected as a 'drift' audit row. The worker "
        "does this every RECONCILE_EVERY_MINUTES."
    )

    def handle(self, *args, verbosity: int, **options) -> None:
        def progress(run: ReconcileRun) -> None:
            if verbosity >= 2:
                self.stdout.write(f"Checked {run.checked:,} of {run.total:,} accounts.")

        try:
            run = reconcile_run(trigger="command", progress=progress)
        except (ReconcileBusy, ReconcileStopped) as exc:
            raise CommandError(str(exc)) from exc
        if verbosity >= 1:
            failed = f"; {run.failed:,} could not be looked up" if run.failed else ""
            self.stdout.write(
                f"Reconcile {run.pk}: checked {run.checked:,} "
                f"account{'s' if run.checked != 1 else ''}; "
                f"{run.differences:,} difference{'s' if run.differences != 1 else ''}{failed}."
            )
