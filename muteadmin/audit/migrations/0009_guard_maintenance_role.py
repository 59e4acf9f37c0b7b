"""The audit guard no longer stands aside for a session setting or a client-defined function.

PostgreSQL: the guard's function is replaced by one that allows repairs of completed rows only
to the maintenance role, named in it now (settings.AUDIT_MAINTENANCE_ROLE, or the role running
this migration), and only while that role's session asks for them (see muteadmin/audit/guard.py).
SQLite: every trigger on the table that asked muteadmin_audit_maintenance() is created again
without it, so it refuses whatever function a client defines.

Reversed, PostgreSQL gets 0004's function back; SQLite's triggers stay as they are (stricter),
and 0004, 0007 and 0008 drop them by name when they are reversed in turn.
"""

from django.conf import settings
from django.db import migrations

from muteadmin.audit.guard import postgres_guard_install, sqlite_switches_remove


def guard_replace(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        postgres_guard_install(connection, role=settings.AUDIT_MAINTENANCE_ROLE)
    elif connection.vendor == "sqlite":
        table = apps.get_model("audit", "AuditEntry")._meta.db_table
        sqlite_switches_remove(connection, table)


def guard_restore(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        from importlib import import_module

        previous = import_module("muteadmin.audit.migrations.0004_guard")
        schema_editor.execute(previous.POSTGRES_FUNCTION, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0008_app")]

    operations = [
        migrations.RunPython(guard_replace, guard_restore, elidable=False),
    ]
