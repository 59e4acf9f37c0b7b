"""`manage.py audit_sweep_pending`: complete as "unknown" the audit rows left pending."""

from django.core.management.base import BaseCommand, CommandError

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.sweeper import SWEEP_BATCH, audit_sweep_after, audit_sweep_pending


class Command(BaseCommand):
    help = (
        "Complete every audit row still pending AUDIT_PENDING_SWEEP_AFTER_SECONDS after it began "
        "(its process crashed, or the database was down when it finished) with outcome "
        "'unknown', re-checking each account with Tencent first. The worker does this every "
        "minute; safe to run beside it."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--limit",
            type=int,
            default=0,
            metavar="ROWS",
            help="Complete at most ROWS rows (default: all of them, a batch at a time).",
        )

    def handle(self, *args, limit: int, verbosity: int, **options) -> None:
        if limit < 0:
            raise CommandError("--limit must be 0 (no limit) or more.")
        swept: list[int] = []
        while True:
            batch = SWEEP_BATCH if not limit else min(SWEEP_BATCH, limit - len(swept))
            done = audit_sweep_pending(limit=batch)
            swept += done
            if len(done) < batch or (limit and len(swept) >= limit):
                break
        if verbosity >= 1:
            for entry in AuditEntry.objects.filter(pk__in=swept).order_by("id"):
                self.stdout.write(f"Audit row {entry.pk}: {entry.error_info}")
            after = int(audit_sweep_after().total_seconds())
            self.stdout.write(
                f"{len(swept)} row{'s' if len(swept) != 1 else ''} pending for more than "
                f"{after} s completed as unknown."
            )
