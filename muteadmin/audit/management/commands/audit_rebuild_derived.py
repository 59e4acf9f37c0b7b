"""`manage.py audit_rebuild_derived`: recompute hourly counts and account states from the log."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext

from muteadmin.audit.derived import audit_derived_rebuild


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return gettext(
            "Recompute the audit page's hourly counts and the mute report's account states from "
            "every completed audit row (after a bulk import). Audit writes wait while it runs."
        )

    def handle(self, *args, verbosity: int, **options) -> None:
        result = audit_derived_rebuild()
        if verbosity >= 1:
            self.stdout.write(
                gettext(
                    "Rebuilt from %(rows)s completed audit rows: %(hourly)s hourly counts, "
                    "%(operator)s per operator, %(accounts)s account states."
                )
                % {
                    "rows": result.rows,
                    "hourly": result.hourly_counts,
                    "operator": result.operator_hourly_counts,
                    "accounts": result.accounts,
                }
            )
