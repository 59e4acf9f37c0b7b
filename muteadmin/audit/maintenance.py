"""The one switch the audit log's database guard honours: emptying a test database, or repairs.

Migration 0004_guard installs triggers that refuse to change a completed audit row or delete any.
Inside `audit_maintenance()` they stand aside, on the current connection only:
- PostgreSQL: the session setting `muteadmin.audit_maintenance` is 'on' for the block;
- SQLite: the SQL function `muteadmin_audit_maintenance()`, registered on every connection as it
  opens, answers 1 for the block.
"""

import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

POSTGRES_SETTING = "muteadmin.audit_maintenance"
SQLITE_FUNCTION = "muteadmin_audit_maintenance"
# Where a SQLite connection wrapper keeps its switch.
_SQLITE_FLAG = "_muteadmin_audit_maintenance"


@contextmanager
def audit_maintenance(*, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Let the statements of the block change or delete audit rows on connection `using`."""
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
        setattr(connection, _SQLITE_FLAG, True)
        try:
            yield
        finally:
            setattr(connection, _SQLITE_FLAG, False)
    else:
        yield


def _postgres_switch(connection: BaseDatabaseWrapper, *, on: bool) -> None:
    # Session-wide (is_local false), so it also covers statements after a COMMIT inside the block.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config(%s, %s, false)", [POSTGRES_SETTING, "on" if on else "off"]
        )


def _sqlite_function_register(sender, connection: BaseDatabaseWrapper, **kwargs) -> None:
    """Give each new SQLite connection the function the guard's triggers ask."""
    if connection.vendor != "sqlite":
        return
    # Weak, so the raw connection holding this function does not keep its wrapper alive.
    wrapper = weakref.ref(connection)

    def maintenance_on() -> int:
        current = wrapper()
        return int(current is not None and getattr(current, _SQLITE_FLAG, False))

    connection.connection.create_function(SQLITE_FUNCTION, 0, maintenance_on)


def audit_maintenance_install() -> None:
    """Register the SQLite function on every connection opened from now on (called at startup)."""
    connection_created.connect(
        _sqlite_function_register, dispatch_uid="muteadmin.audit.maintenance"
    )
