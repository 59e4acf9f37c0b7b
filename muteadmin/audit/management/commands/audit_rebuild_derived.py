"""`manage.py audit_rebuild_derived`: recompute hourly counts and account states from the log."""

from django.core.management.base import BaseCommand

from muteadmin.audit.derived import audit_derived_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the audit page's hourly counts and the mute report's account states from "
        "every completed audit row (after a bulk import). Audit writes wait while it runs."
    )

    def handle(self, *args, verbosity: int, **options) -> None:
        result = audit_derived_rebuild()
        if verbosity >= 1:
            self.stdout.write(
                f"Rebuilt from {result.rows} completed audit rows: {result.hourly_counts} "
                f"hourly counts, {result.operator_hourly_counts} per operator, "
                f"{result.accounts} account states."
            )
