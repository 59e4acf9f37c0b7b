"""The database's own guard on the audit log, as installed by migration 0009 (and re-installed by
`manage.py audit_guard_install`).

The triggers refuse to change a completed row and to delete or TRUNCATE any row. Completing a
pending row stays allowed, and so does setting operator_id to NULL on its own (what deleting a
user does). No session setting turns them off:

- PostgreSQL: repairs of completed rows are allowed only to the maintenance role recorded in
  the guard's function when it was installed (settings.AUDIT_MAINTENANCE_ROLE, by default the
  role that ran `migrate`, which owns the tables), and only while that role's own session turns
  `muteadmin.audit_maintenance` on (maintenance.audit_maintenance()), so it too cannot change
  a completed row by mistake. The role is compared with `session_user`, the role that logged in:
  SET ROLE does not change it, so a member of the maintenance role gains nothing by switching
  to it, and SET SESSION AUTHORIZATION needs a superuser. The function's search_path is fixed,
  so no function or operator a session defines can stand in for the ones it calls.
- SQLite: the triggers refuse unconditionally and call no function (a client that defines one
  of the name older triggers asked got past them). Repairs drop the triggers and create them
  again inside one transaction (maintenance.audit_maintenance()); anyone who can write the
  database file can do the same, so on SQLite the keyed chain and the checkpoints are what
  expose a rewrite.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

GUARD_FUNCTION = "muteadmin_audit_guard"
MAINTENANCE_SETTING = "muteadmin.audit_maintenance"
# What older triggers on SQLite asked to stand aside (migrations 0004, 0007, 0008).
SQLITE_OLD_SWITCH = "muteadmin_audit_maintenance()"

_POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION muteadmin_audit_guard() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $guard$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.outcome = 'pending' THEN
            RETURN NEW;
        END IF;
    END IF;
    IF session_user = {role}::name
            AND current_setting('muteadmin.audit_maintenance', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'audit rows are append-only: emptying % with TRUNCATE is refused',
            TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit rows are append-only: audit row #% cannot be deleted',
            OLD.id USING ERRCODE = 'restrict_violation';
    END IF;
    -- Deleting a user sets operator_id to NULL; operator_username keeps naming who acted.
    IF OLD.operator_id IS NOT NULL AND NEW.operator_id IS NULL
            AND to_jsonb(NEW) - 'operator_id' = to_jsonb(OLD) - 'operator_id' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit rows are append-only: completed audit row #% cannot be changed',
        OLD.id USING ERRCODE = 'restrict_violation';
END;
$guard$
"""


def postgres_guard_function(role: str) -> str:
    """CREATE OR REPLACE of the guard's function, allowing repairs to `role` alone."""
    if not role:
        raise ValueError("The maintenance role must be named.")
    literal = "'" + role.replace("'", "''") + "'"
    return _POSTGRES_FUNCTION.replace("{role}", literal)


def postgres_guard_install(connection: BaseDatabaseWrapper, *, role: str = "") -> str:
    """Replace the guard's function on PostgreSQL; the maintenance role it now names.

    `role` defaults to the role this connection logged in as. Only the function's owner (the
    role that ran the migrations) may replace it.
    """
    with connection.cursor() as cursor:
        if not role:
            cursor.execute("SELECT session_user")
            (role,) = cursor.fetchone()
        cursor.execute(postgres_guard_function(role))
    return role


def sqlite_triggers(connection: BaseDatabaseWrapper, table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of every trigger on `table`, in the order they were created."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s "
            "ORDER BY rowid",
            [table],
        )
        return list(cursor.fetchall())


def sqlite_without_switch(statement: str) -> str:
    """An older trigger's CREATE statement without its call to the maintenance function."""
    for form in (f" AND NOT {SQLITE_OLD_SWITCH}", f"NOT {SQLITE_OLD_SWITCH} AND "):
        statement = statement.replace(form, "")
    # A trigger whose only condition was the switch now always refuses.
    return statement.replace(f"WHEN NOT {SQLITE_OLD_SWITCH} ", "")


def sqlite_switches_remove(connection: BaseDatabaseWrapper, table: str) -> int:
    """Re-create every trigger on `table` that asks the maintenance function without it."""
    rewritten = 0
    with connection.cursor() as cursor:
        for name, statement in sqlite_triggers(connection, table):
            if SQLITE_OLD_SWITCH not in statement:
                continue
            cursor.execute(f'DROP TRIGGER "{name}"')
            cursor.execute(sqlite_without_switch(statement))
            rewritten += 1
    return rewritten
