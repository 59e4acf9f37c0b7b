"""`manage.py audit_sweep_pending`: complete as "unknown" the audit rows left pending."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext, ngettext

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.sweeper import SWEEP_BATCH, audit_sweep_after, audit_sweep_pending


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return gettext(
            "Complete every audit row still pending AUDIT_PENDING_SWEEP_AFTER_SECONDS after it "
            "began (its process crashed, or the database was down when it finished) with outcome "
            "'unknown', re-checking each account with Tencent first. The worker does this every "
            "minute; safe to run beside it."
        )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--limit",
            type=int,
            default=0,
            metavar="ROWS",
            help=gettext("Complete at most ROWS rows (default: all of them, a batch at a time)."),
        )

    def handle(self, *args, limit: int, verbosity: int, **options) -> None:
        if limit < 0:
            raise CommandError(gettext("--limit must be 0 (no limit) or more."))
        swept: list[int] = []
        while True:
            batch = SWEEP_BATCH if not limit else min(SWEEP_BATCH, limit - len(swept))
            done = audit_sweep_pending(limit=batch)
            swept += done
            if len(done) < batch or (limit and len(swept) >= limit):
                break
        if verbosity >= 1:
            for entry in AuditEntry.objects.filter(pk__in=swept).order_by("id"):
                self.stdout.write(
                    gettext("Audit row %(id)s: %(info)s")
                    % {"id": entry.pk, "info": entry.error_info}
                )
            after = int(audit_sweep_after().total_seconds())
            self.stdout.write(
                ngettext(
                    "%(count)s row pending for more than %(after)s s completed as unknown.",
                    "%(count)s rows pending for more than %(after)s s completed as unknown.",
                    len(swept),
                )
                % {"count": len(swept), "after": after}
            )
