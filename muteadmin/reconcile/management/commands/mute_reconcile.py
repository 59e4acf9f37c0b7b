"""`manage.py mute_reconcile`: check with Tencent now, as the worker does every hour."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext, ngettext

from muteadmin.reconcile.models import ReconcileRun
from muteadmin.reconcile.services import ReconcileBusy, ReconcileStopped, reconcile_run


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return gettext(
            "Ask Tencent again about every account the mute report shows as muted, every account "
            "changed in the last 7 days and the watchlist, within RECONCILE_SHARE of the cap, and "
            "record each difference from what muteadmin expected as a 'drift' audit row. The "
            "worker does this every RECONCILE_EVERY_MINUTES."
        )

    def handle(self, *args, verbosity: int, **options) -> None:
        def progress(run: ReconcileRun) -> None:
            if verbosity >= 2:
                self.stdout.write(
                    gettext("Checked %(checked)s of %(total)s accounts.")
                    % {"checked": f"{run.checked:,}", "total": f"{run.total:,}"}
                )

        try:
            run = reconcile_run(trigger="command", progress=progress)
        except (ReconcileBusy, ReconcileStopped) as exc:
            raise CommandError(str(exc)) from exc
        if verbosity >= 1:
            self.stdout.write(_summary(run))


def _summary(run: ReconcileRun) -> str:
    checked = ngettext("checked %(count)s account", "checked %(count)s accounts", run.checked) % {
        "count": f"{run.checked:,}"
    }
    differences = ngettext("%(count)s difference", "%(count)s differences", run.differences) % {
        "count": f"{run.differences:,}"
    }
    failed = ""
    if run.failed:
        failed = gettext("; %(count)s could not be looked up") % {"count": f"{run.failed:,}"}
    return gettext("Reconcile %(run)s: %(checked)s; %(differences)s%(failed)s.") % {
        "run": run.pk,
        "checked": checked,
        "differences": differences,
        "failed": failed,
    }
