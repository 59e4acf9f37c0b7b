"""`manage.py sandbox_fault KIND [--code N] [--count N]` or `--clear`: fail the next calls."""

from django.core.management.base import BaseCommand, CommandError

from muteadmin.sandbox.models import SandboxFault
from muteadmin.sandbox.services import (
    sandbox_fault_clear,
    sandbox_fault_push,
    sandbox_faults_queued,
)


class Command(BaseCommand):
    help = (
        "Queue faults for the next sandbox calls, oldest first, one per call (for demos): "
        "error (HTTP 200 with --code), http502, badjson, timeout, refused. "
        "--clear empties the queue."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", nargs="?", choices=SandboxFault.Kind.values)
        parser.add_argument("--code", type=int, help="ErrorCode for an error fault, e.g. 130014.")
        parser.add_argument("--count", type=int, default=1, help="How many calls fail (default 1).")
        parser.add_argument("--clear", action="store_true", help="Drop every queued fault.")

    def handle(self, *args, kind: str | None, code: int | None, count: int, clear: bool, **options):
        if clear:
            if kind is not None:
                raise CommandError("Give either a fault kind or --clear, not both.")
            cleared = sandbox_fault_clear()
            self.stdout.write(f"Cleared {cleared} queued fault{_plural(cleared)}.")
            return
        if kind is None:
            kinds = ", ".join(SandboxFault.Kind.values)
            raise CommandError(f"Name a fault kind ({kinds}) or pass --clear.")
        try:
            sandbox_fault_push(kind=kind, code=code, count=count)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        label = SandboxFault.Kind(kind).label
        described = f"HTTP 200 with ErrorCode {code}" if code is not None else label
        self.stdout.write(
            f"Queued {count} fault{_plural(count)}: {described}. "
            f"{sandbox_faults_queued()} now waiting for the next sandbox calls."
        )


def _plural(count: int) -> str:
    return "" if count == 1 else "s"
