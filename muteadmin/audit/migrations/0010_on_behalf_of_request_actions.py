"""Audit rows name whose request an operator carried out, and record steps without a call.

`on_behalf_of` holds the requester's username on the rows of an approved mute request; the
new actions are the steps of a request and changes of a role's limits. Older rows have no
`on_behalf_of`, and their hashes were computed without it (see chain.py). Choices are not
stored in the database, so the AlterFields change nothing there.
"""

from django.db import migrations, models

# SQLite's guard (0004, made unconditional by 0009) lists the columns it protects; a completed
# row's new column is protected the same way, asking no function. PostgreSQL's guard compares
# whole rows, so it covers the column already.
SQLITE_TRIGGER = (
    "CREATE TRIGGER audit_on_behalf_of_unchanged BEFORE UPDATE OF on_behalf_of "
    "ON audit_auditentry WHEN OLD.outcome <> 'pending' "
    "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only: a completed audit row cannot be "
    "changed'); END"
)


def guard_install(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


def guard_uninstall(apps, schema_editor) -> None:
    entries = apps.get_model("audit", "AuditEntry").objects.using(schema_editor.connection.alias)
    if entries.filter(on_behalf_of__isnull=False, chain_seq__isnull=False).exists():
        raise RuntimeError(
            "Completed audit rows name whom they acted for, which their chain hashes cover; "
            "removing the column would break the chain, so this migration is not reversed."
        )
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_on_behalf_of_unchanged")


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0009_guard_maintenance_role'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditentry',
            name='on_behalf_of',
            field=models.CharField(blank=True, max_length=150, null=True),
        ),
        migrations.RunPython(guard_install, guard_uninstall, elidable=False),
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(choices=[('query', 'Query'), ('change', 'Change'), ('export', 'Export'), ('request_filed', 'Request filed'), ('request_approved', 'Request approved'), ('request_rejected', 'Request rejected'), ('request_expired', 'Request expired'), ('limit_change', 'Limit change')], max_length=16),
        ),
        migrations.AlterField(
            model_name='audithourlycount',
            name='action',
            field=models.CharField(choices=[('query', 'Query'), ('change', 'Change'), ('export', 'Export'), ('request_filed', 'Request filed'), ('request_approved', 'Request approved'), ('request_rejected', 'Request rejected'), ('request_expired', 'Request expired'), ('limit_change', 'Limit change')], max_length=16),
        ),
        migrations.AlterField(
            model_name='auditoperatorhourlycount',
            name='action',
            field=models.CharField(choices=[('query', 'Query'), ('change', 'Change'), ('export', 'Export'), ('request_filed', 'Request filed'), ('request_approved', 'Request approved'), ('request_rejected', 'Request rejected'), ('request_expired', 'Request expired'), ('limit_change', 'Limit change')], max_length=16),
        ),
    ]
