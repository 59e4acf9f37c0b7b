"""`manage.py audit_guard_install`: name the PostgreSQL role allowed to repair audit rows again."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.utils.translation import gettext

from muteadmin.audit.guard import postgres_guard_install


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return gettext(
            "PostgreSQL only: re-install the audit log's guard so that only AUDIT_MAINTENANCE_ROLE "
            "(or, when it is empty, the role running this command) may repair completed audit "
            "rows. Run it as the role that owns the tables, after changing AUDIT_MAINTENANCE_ROLE."
        )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, database: str, verbosity: int, **options) -> None:
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError(
                gettext(
                    "The maintenance role is a PostgreSQL setting; on SQLite the guard has none."
                )
            )
        try:
            role = postgres_guard_install(connection, role=settings.AUDIT_MAINTENANCE_ROLE)
        except DatabaseError as exc:
            raise CommandError(
                gettext(
                    "The guard could not be installed (%(error)s). Run this command as the role "
                    "that owns the audit tables (the one that runs migrate)."
                )
                % {"error": exc}
            ) from exc
        if verbosity >= 1:
            self.stdout.write(
                gettext("Only %(role)s may now repair completed audit rows.") % {"role": role}
            )
