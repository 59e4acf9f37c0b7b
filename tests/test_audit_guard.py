"""No session setting and no client-defined function switches the audit guard off.

PostgreSQL: two real roles, the owner that runs migrate (the maintenance role) and the app's role
with SELECT, INSERT, UPDATE and even DELETE on the audit table, each connected on its own.
"""

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection

from muteadmin.audit.guard import postgres_guard_install
from muteadmin.audit.maintenance import audit_maintenance
from muteadmin.audit.models import AuditEntry
from tests.audit_fixtures import raw, refused
from tests.conftest import audit_begun, audit_completed

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's guard")
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL's roles (CI runs this suite on PostgreSQL too)",
)


# SQLite


@sqlite_only
@pytest.mark.django_db
def test_sqlite_refuses_whatever_function_a_client_defines():
    entry, running = audit_completed(), audit_begun()
    # What let a client through before: its own function of the name the triggers called.
    connection.connection.create_function("muteadmin_audit_maintenance", 0, lambda: 1)
    assert "append-only" in refused(
        "UPDATE audit_auditentry SET reason = 'rewritten' WHERE id = %s", [entry.pk]
    )
    assert "append-only" in refused("DELETE FROM audit_auditentry WHERE id = %s", [running.pk])
    assert AuditEntry.objects.get(pk=entry.pk).reason == "spam"
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        triggers = dict(cursor.fetchall())
    assert {
        "audit_no_delete",
        "audit_completed_unchanged",
        "audit_operator_unlink_only",
        "audit_correlation_unchanged",
        "audit_app_unchanged",
    } <= triggers.keys()
    assert not [name for name, sql in triggers.items() if "maintenance" in sql]


@sqlite_only
@pytest.mark.django_db
def test_sqlite_maintenance_puts_every_trigger_back():
    entry = audit_completed()
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        before = cursor.fetchall()
    with audit_maintenance():
        raw("UPDATE audit_auditentry SET reason = 'repaired' WHERE id = %s", [entry.pk])
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        assert cursor.fetchall() == before
    refused("UPDATE audit_auditentry SET reason = 'again' WHERE id = %s", [entry.pk])


# PostgreSQL, two roles


@dataclass(frozen=True)
class Roles:
    owner: str
    app: str
    password: str

    def connect(self, role: str):
        """A connection of its own, logged in as `role`, committing each statement."""
        import psycopg

        settings = connection.settings_dict
        return psycopg.connect(
            host=settings["HOST"] or "127.0.0.1",
            port=settings["PORT"] or 5432,
            dbname=settings["NAME"],
            user=role,
            password=self.password,
            autocommit=True,
        )


@pytest.fixture
def two_roles(transactional_db) -> Iterator[Roles]:
    """An owner (the maintenance role, owning the audit table) and an app role, dropped after.

    Names are unique per run: roles belong to the whole server, which other test databases share.
    """
    suffix = secrets.token_hex(4)
    roles = Roles(f"muteadmin_owner_{suffix}", f"muteadmin_app_{suffix}", secrets.token_hex(16))
    table = AuditEntry._meta.db_table
    for role in (roles.owner, roles.app):
        raw(f"CREATE ROLE {role} LOGIN PASSWORD '{roles.password}'")
    raw(f"ALTER TABLE {table} OWNER TO {roles.owner}")
    # Every privilege on the table but ownership, DELETE and TRUNCATE included: the guard is
    # what refuses, not a missing grant.
    raw(f"GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON {table} TO {roles.app}")
    # As `migrate` run by the owner would have named it.
    postgres_guard_install(connection, role=roles.owner)
    try:
        yield roles
    finally:
        postgres_guard_install(connection)  # the test database's own migrating role again
        raw(f"ALTER TABLE {table} OWNER TO CURRENT_USER")
        raw(f"DROP OWNED BY {roles.owner}, {roles.app}")
        raw(f"DROP ROLE {roles.app}")
        raw(f"DROP ROLE {roles.owner}")


def refused_in(session, sql: str, params: list | None = None) -> str:
    """Run `sql` in `session`, which the guard must refuse; the database's message."""
    import psycopg

    with pytest.raises(psycopg.errors.RestrictViolation) as caught:
        session.execute(sql, params)
    return str(caught.value)


@postgresql_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_app_role_cannot_change_or_delete_completed_rows_after_any_set(two_roles):
    import psycopg

    done, running = audit_completed(), audit_begun()
    update = "UPDATE audit_auditentry SET reason = 'rewritten' WHERE id = %s"
    delete = "DELETE FROM audit_auditentry WHERE id = %s"
    with two_roles.connect(two_roles.app) as app:
        app.execute("SET muteadmin.audit_maintenance = 'on'")
        assert "cannot be changed" in refused_in(app, update, [done.pk])
        assert "cannot be deleted" in refused_in(app, delete, [done.pk])
        app.execute("SELECT set_config('muteadmin.audit_maintenance', 'on', false)")
        for other in ("muteadmin.audit_maintenance = true", "muteadmin.audit_maintenance_role = x"):
            app.execute(f"SET {other}")
            refused_in(app, update, [done.pk])
        refused_in(app, delete, [running.pk])
        refused_in(app, "TRUNCATE audit_auditentry")
        # The settings that would skip or drop triggers are not the app's to change.
        for statement in (
            "SET session_replication_role = replica",
            f"SET SESSION AUTHORIZATION {two_roles.owner}",
            f"SET ROLE {two_roles.owner}",
            "ALTER TABLE audit_auditentry DISABLE TRIGGER audit_append_only",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(statement)
        # A function of the name the guard calls, put first on the search path, changes nothing.
        app.execute(
            "CREATE FUNCTION pg_temp.current_setting(text, boolean) RETURNS text "
            "LANGUAGE sql AS $$ SELECT 'on' $$"
        )
        app.execute("SET search_path = pg_temp, public, pg_catalog")
        refused_in(app, update, [done.pk])
        # Completing a pending row is what the app is there for.
        app.execute(
            "UPDATE audit_auditentry SET error_info = 'still running' WHERE id = %s", [running.pk]
        )
    assert AuditEntry.objects.get(pk=done.pk).reason == "spam"
    assert AuditEntry.objects.filter(pk=running.pk).exists()


@postgresql_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_member_of_the_owner_role_is_refused_after_set_role(two_roles):
    done = audit_completed()
    raw(f"GRANT {two_roles.owner} TO {two_roles.app}")
    with two_roles.connect(two_roles.app) as app:
        app.execute(f"SET ROLE {two_roles.owner}")
        assert app.execute("SELECT current_user").fetchone() == (two_roles.owner,)
        app.execute("SET muteadmin.audit_maintenance = 'on'")
        refused_in(app, "UPDATE audit_auditentry SET reason = 'x' WHERE id = %s", [done.pk])
        refused_in(app, "DELETE FROM audit_auditentry WHERE id = %s", [done.pk])
    assert AuditEntry.objects.get(pk=done.pk).reason == "spam"


@postgresql_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_only_the_owner_repairs_and_only_when_it_asks(two_roles):
    done, other = audit_completed(), audit_completed()
    update = "UPDATE audit_auditentry SET reason = 'repaired' WHERE id = %s"
    with two_roles.connect(two_roles.owner) as owner:
        refused_in(owner, update, [done.pk])  # not by mistake
        owner.execute("SET muteadmin.audit_maintenance = 'on'")
        owner.execute(update, [done.pk])
        owner.execute("DELETE FROM audit_auditentry WHERE id = %s", [other.pk])
    assert AuditEntry.objects.get(pk=done.pk).reason == "repaired"
    assert not AuditEntry.objects.filter(pk=other.pk).exists()


@postgresql_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migrating_role_is_the_maintenance_role_by_default():
    done = audit_completed()
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'muteadmin_audit_guard'")
        (source,) = cursor.fetchone()
        cursor.execute("SELECT session_user")
        (migrator,) = cursor.fetchone()
    assert f"session_user = '{migrator}'::name" in source
    with audit_maintenance():
        raw("UPDATE audit_auditentry SET reason = 'repaired' WHERE id = %s", [done.pk])
    refused("UPDATE audit_auditentry SET reason = 'again' WHERE id = %s", [done.pk])


@postgresql_only
@pytest.mark.django_db
def test_audit_guard_install_names_the_configured_maintenance_role(settings):
    settings.AUDIT_MAINTENANCE_ROLE = "muteadmin_someone_else"
    out = StringIO()
    call_command("audit_guard_install", stdout=out)
    assert out.getvalue() == "Only muteadmin_someone_else may now repair completed audit rows.\n"
    done = audit_completed()
    # The test database's own role is no longer the maintenance role, switch or not.
    with pytest.raises(IntegrityError), audit_maintenance():
        raw("UPDATE audit_auditentry SET reason = 'repaired' WHERE id = %s", [done.pk])


@sqlite_only
def test_audit_guard_install_says_sqlite_has_no_maintenance_role():
    with pytest.raises(CommandError, match=r"^The maintenance role is a PostgreSQL setting; "):
        call_command("audit_guard_install")


@sqlite_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_trigger_written_in_the_older_style_loses_its_switch_at_the_next_migrate():
    entry = audit_completed()
    raw(
        "CREATE TRIGGER audit_later_unchanged BEFORE UPDATE OF reason ON audit_auditentry "
        "WHEN OLD.outcome <> 'pending' AND NOT muteadmin_audit_maintenance() "
        "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only: later'); END"
    )
    try:
        call_command("migrate", "audit", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'audit_later_unchanged'")
            (statement,) = cursor.fetchone()
        assert statement == (
            "CREATE TRIGGER audit_later_unchanged BEFORE UPDATE OF reason ON audit_auditentry "
            "WHEN OLD.outcome <> 'pending' "
            "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only: later'); END"
        )
        connection.connection.create_function("muteadmin_audit_maintenance", 0, lambda: 1)
        assert "append-only" in refused(
            "UPDATE audit_auditentry SET reason = 'rewritten' WHERE id = %s", [entry.pk]
        )
    finally:
        raw("DROP TRIGGER IF EXISTS audit_later_unchanged")
