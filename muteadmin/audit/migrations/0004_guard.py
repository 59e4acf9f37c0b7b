"""The database guards the audit log itself: completed rows cannot change, no row can be deleted.

Completing a pending row stays allowed, and so does setting operator_id to NULL on its own (what
deleting a user does). Inside muteadmin.audit.maintenance.audit_maintenance() the guard stands
aside for that one connection (emptying a test database, a supervised repair).

Rows completed before the hash chain existed are linked into it first, in id order, so that
audit_verify vouches for them from here on. Run `manage.py audit_rebuild_derived` once after
upgrading a database that already holds audit rows.

SQLite note: a later migration that makes SQLite rebuild this table (most AlterField and
RemoveField operations do) drops these triggers with the old table; such a migration must
install them again.
"""

from django.db import migrations

from muteadmin.audit.chain import CHAIN_FIELDS, GENESIS_HASH, chain_hash

GUARD_FUNCTION = "muteadmin_audit_guard"
PENDING = "pending"
LEGACY_BATCH = 2_000

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION muteadmin_audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('muteadmin.audit_maintenance', true) = 'on' THEN
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
    IF OLD.outcome = 'pending' THEN
        RETURN NEW;
    END IF;
    -- Deleting a user sets operator_id to NULL; operator_username keeps naming who acted.
    IF OLD.operator_id IS NOT NULL AND NEW.operator_id IS NULL
            AND to_jsonb(NEW) - 'operator_id' = to_jsonb(OLD) - 'operator_id' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit rows are append-only: completed audit row #% cannot be changed',
        OLD.id USING ERRCODE = 'restrict_violation';
END;
$$
"""


def _postgres_install(table: str) -> list[str]:
    return [
        POSTGRES_FUNCTION,
        f"CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {GUARD_FUNCTION}()",
        f"CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {GUARD_FUNCTION}()",
    ]


def _postgres_uninstall(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS audit_no_truncate ON {table}",
        f"DROP TRIGGER IF EXISTS audit_append_only ON {table}",
        f"DROP FUNCTION IF EXISTS {GUARD_FUNCTION}()",
    ]


def _sqlite_install(table: str, guarded_columns: str) -> list[str]:
    # muteadmin_audit_maintenance() is registered on every connection by the audit app.
    return [
        f"CREATE TRIGGER audit_completed_unchanged BEFORE UPDATE OF {guarded_columns} ON {table} "
        f"WHEN OLD.outcome <> '{PENDING}' AND NOT muteadmin_audit_maintenance() BEGIN "
        "SELECT RAISE(ABORT, 'audit rows are append-only: a completed audit row cannot be "
        "changed'); END",
        f"CREATE TRIGGER audit_operator_unlink_only BEFORE UPDATE OF operator_id ON {table} "
        f"WHEN OLD.outcome <> '{PENDING}' AND NEW.operator_id IS NOT NULL "
        "AND NOT muteadmin_audit_maintenance() BEGIN "
        "SELECT RAISE(ABORT, 'audit rows are append-only: a completed audit row''s operator "
        "can only be unlinked, when the user is deleted'); END",
        f"CREATE TRIGGER audit_no_delete BEFORE DELETE ON {table} "
        "WHEN NOT muteadmin_audit_maintenance() BEGIN "
        "SELECT RAISE(ABORT, 'audit rows are append-only: audit rows cannot be deleted'); END",
    ]


def _sqlite_uninstall(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {name}"
        for name in ("audit_no_delete", "audit_operator_unlink_only", "audit_completed_unchanged")
    ]


def _statements(apps, schema_editor, *, install: bool) -> list[str]:
    model = apps.get_model("audit", "AuditEntry")
    quote = schema_editor.quote_name
    table = quote(model._meta.db_table)
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        return _postgres_install(table) if install else _postgres_uninstall(table)
    if vendor == "sqlite":
        if not install:
            return _sqlite_uninstall(table)
        # Every column but operator_id, as the table stands at this migration.
        guarded = ", ".join(
            quote(field.column) for field in model._meta.concrete_fields if field.name != "operator"
        )
        return _sqlite_install(table, guarded)
    return []


def guard_install(apps, schema_editor) -> None:
    for statement in _statements(apps, schema_editor, install=True):
        # No parameters: the trigger bodies contain '%' placeholders of PL/pgSQL's own.
        schema_editor.execute(statement, params=None)


def guard_uninstall(apps, schema_editor) -> None:
    for statement in _statements(apps, schema_editor, install=False):
        schema_editor.execute(statement, params=None)


def legacy_rows_chain(apps, schema_editor) -> None:
    """Link rows completed before the chain existed into it, after whatever it already holds."""
    model = apps.get_model("audit", "AuditEntry")
    entries = model.objects.using(schema_editor.connection.alias)
    # Columns added after this migration count as null, as they will read once added.
    existing = {field.name for field in model._meta.concrete_fields}
    head = (
        entries.filter(chain_seq__isnull=False)
        .order_by("-chain_seq")
        .values_list("chain_seq", "chain_hash")
        .first()
    )
    position, previous = head if head is not None else (0, GENESIS_HASH)
    unchained = (
        entries.filter(chain_seq__isnull=True)
        .exclude(outcome=PENDING)
        .order_by("id")
        .values(*[name for name in CHAIN_FIELDS if name in existing and name != "chain_seq"])
    )
    last_id = 0
    # Read a batch, then write it: never update the table under an open cursor on it.
    while batch := list(unchained.filter(id__gt=last_id)[:LEGACY_BATCH]):
        for row in batch:
            position += 1
            row["chain_seq"] = position
            previous = chain_hash(previous=previous, fields=row)
            entries.filter(pk=row["id"]).update(chain_seq=position, chain_hash=previous)
        last_id = batch[-1]["id"]


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_account_mute_state"),
    ]

    operations = [
        migrations.RunPython(legacy_rows_chain, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(guard_install, guard_uninstall, elidable=False),
    ]
