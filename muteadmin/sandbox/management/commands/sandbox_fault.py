"""`manage.py sandbox_fault KIND [--code N] [--count N]` or `--clear`: fail the next calls."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext, ngettext

from muteadmin.sandbox.models import SandboxFault
from muteadmin.sandbox.services import (
    sandbox_fault_clear,
    sandbox_fault_push,
    sandbox_faults_queued,
)


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return gettext(
            "Queue faults for the next sandbox calls, oldest first, one per call (for demos): "
            "error (HTTP 200 with --code), http502, badjson, timeout, refused. "
            "--clear empties the queue."
        )

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", nargs="?", choices=SandboxFault.Kind.values)
        parser.add_argument(
            "--code", type=int, help=gettext("ErrorCode for an error fault, e.g. 130014.")
        )
        parser.add_argument(
            "--count", type=int, default=1, help=gettext("How many calls fail (default 1).")
        )
        parser.add_argument(
            "--clear", action="store_true", help=gettext("Drop every queued fault.")
        )

    def handle(self, *args, kind: str | None, code: int | None, count: int, clear: bool, **options):
        if clear:
            if kind is not None:
                raise CommandError(gettext("Give either a fault kind or --clear, not both."))
            cleared = sandbox_fault_clear()
            self.stdout.write(
                ngettext(
                    "Cleared %(count)s queued fault.", "Cleared %(count)s queued faults.", cleared
                )
                % {"count": cleared}
            )
            return
        if kind is None:
            kinds = ", ".join(SandboxFault.Kind.values)
            raise CommandError(
                gettext("Name a fault kind (%(kinds)s) or pass --clear.") % {"kinds": kinds}
            )
        try:
            sandbox_fault_push(kind=kind, code=code, count=count)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        label = SandboxFault.Kind(kind).label
        described = (
            gettext("HTTP 200 with ErrorCode %(code)s") % {"code": code}
            if code is not None
            else label
        )
        queued = ngettext(
            "Queued %(count)s fault: %(described)s.",
            "Queued %(count)s faults: %(described)s.",
            count,
        ) % {"count": count, "described": described}
        waiting = gettext("%(waiting)s now waiting for the next sandbox calls.") % {
            "waiting": sandbox_faults_queued()
        }
        self.stdout.write(f"{queued} {waiting}")
