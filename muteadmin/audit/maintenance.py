"""Repairs that must touch completed audit rows: emptying a test database, a supervised fix.

The guard (guard.py) refuses them to everyone else. Inside `audit_maintenance()` it stands aside
for the statements of the block:
- PostgreSQL: the block's session turns `muteadmin.audit_maintenance` on, which the guard honours
  only when that session logged in as the maintenance role (the owner that runs `migrate`). Any
  other role is refused whatever it sets.
- SQLite: the guard's triggers are dropped at the start of the block and created again at its
  end, in one transaction, so no other connection ever sees the table unguarded.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from muteadmin.audit.guard import MAINTENANCE_SETTING, sqlite_triggers
from muteadmin.audit.models import AuditEntry


@contextmanager
def audit_maintenance(*, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Let the statements of the block change or delete audit rows on connection `using`.

    On PostgreSQL only a session of the maintenance role is let through; others are refused.
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        _postgres_switch(connection, on=True)
        try:
            # A savepoint, so a refused statement leaves the connection able to switch back off.
            with transaction.atomic(using=using):
                yield
        finally:
            _postgres_switch(connection, on=False)
    elif connection.vendor == "sqlite":
        # A failure inside rolls the drops back with everything else.
        with transaction.atomic(using=using):
            triggers = sqlite_triggers(connection, AuditEntry._meta.db_table)
            with connection.cursor() as cursor:
                for name, _ in triggers:
                    cursor.execute(f'DROP TRIGGER "{name}"')
            yield
            with connection.cursor() as cursor:
                for _, statement in triggers:
                    cursor.execute(statement)
    else:
        yield


def _postgres_switch(connection: BaseDatabaseWrapper, *, on: bool) -> None:
    # Session-wide (is_local false), so it also covers statements after a COMMIT inside the block.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config(%s, %s, false)", [MAINTENANCE_SETTING, "on" if on else "off"]
        )
