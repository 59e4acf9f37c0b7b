"""Audit rows carry the id of the operation they belong to (query and change, bulk job, export).

Rows written before this migration keep no correlation id: they are completed, so the guard
forbids filling one in, and their hashes were computed without it (see chain.py). Rows
completed since have their correlation id in their hash, so this migration is not reversed
once any has one: dropping the column would break the chain at the first of them.
"""

from django.db import migrations, models

# SQLite's guard (0004) lists the columns it protects; a completed row's new column is
# protected the same way. PostgreSQL's guard compares whole rows, so it covers the column already.
SQLITE_TRIGGER = (
    "CREATE TRIGGER audit_correlation_unchanged BEFORE UPDATE OF correlation_id "
    "ON audit_auditentry WHEN OLD.outcome <> 'pending' AND NOT muteadmin_audit_maintenance() "
    "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only: a completed audit row cannot be "
    "changed'); END"
)


def guard_install(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


def guard_uninstall(apps, schema_editor) -> None:
    entries = apps.get_model("audit", "AuditEntry").objects.using(schema_editor.connection.alias)
    hashed = entries.filter(correlation_id__isnull=False, chain_seq__isnull=False)
    if hashed.exists():
        raise RuntimeError(
            "Completed audit rows carry correlation ids that their chain hashes cover; "
            "removing the column would break the chain, so this migration is not reversed."
        )
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_correlation_unchanged")


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_reason_trigrams")]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="correlation_id",
            field=models.UUIDField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["correlation_id", "id"], name="audit_correlation"),
        ),
        migrations.RunPython(guard_install, guard_uninstall, elidable=False),
    ]
