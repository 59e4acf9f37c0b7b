"""Audit rows record the Chat app they called; the tables derived from them are kept per app.

Rows written before this migration keep no app: they are completed, so the guard forbids
filling one in, and their hashes were computed without it (see chain.py); they read as the
default app. The derived tables (hourly counts, account states) hold only what the log holds,
so their existing rows are counted under the default app, as their audit rows now read.
Once a completed row has an app in its hash, the column is not dropped again.
"""

from django.db import migrations, models

# SQLite's guard (0004) lists the columns it protects; a completed row's new column is
# protected the same way. PostgreSQL's guard compares whole rows, so it covers the column already.
SQLITE_TRIGGER = (
    "CREATE TRIGGER audit_app_unchanged BEFORE UPDATE OF app "
    "ON audit_auditentry WHEN OLD.outcome <> 'pending' AND NOT muteadmin_audit_maintenance() "
    "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only: a completed audit row cannot be "
    "changed'); END"
)


def guard_install(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


def guard_uninstall(apps, schema_editor) -> None:
    entries = apps.get_model("audit", "AuditEntry").objects.using(schema_editor.connection.alias)
    if entries.filter(app__isnull=False, chain_seq__isnull=False).exists():
        raise RuntimeError(
            "Completed audit rows name their app, which their chain hashes cover; "
            "removing the column would break the chain, so this migration is not reversed."
        )
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_app_unchanged")


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0007_correlation_id'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='audithourlycount',
            name='audit_hourly_unique',
        ),
        migrations.RemoveConstraint(
            model_name='auditoperatorhourlycount',
            name='audit_operator_hourly_unique',
        ),
        migrations.RemoveIndex(
            model_name='audithourlycount',
            name='audit_hourly_chart',
        ),
        migrations.RemoveIndex(
            model_name='auditoperatorhourlycount',
            name='audit_operator_hourly_chart',
        ),
        migrations.AddField(
            model_name='accountmutestate',
            name='app',
            field=models.CharField(default='default', max_length=32),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='auditentry',
            name='app',
            field=models.CharField(blank=True, max_length=32, null=True),
        ),
        migrations.AddField(
            model_name='audithourlycount',
            name='app',
            field=models.CharField(default='default', max_length=32),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='auditoperatorhourlycount',
            name='app',
            field=models.CharField(default='default', max_length=32),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name='accountmutestate',
            name='account',
            field=models.CharField(max_length=64),
        ),
        migrations.AddIndex(
            model_name='accountmutestate',
            index=models.Index(fields=['app', 'active_until'], name='mutestate_app'),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['app', '-id'], name='audit_app_recent'),
        ),
        migrations.RunPython(guard_install, guard_uninstall, elidable=False),
        migrations.AddIndex(
            model_name='audithourlycount',
            index=models.Index(fields=['hour', 'action', 'outcome', 'app', 'count'], name='audit_hourly_app_chart'),
        ),
        migrations.AddIndex(
            model_name='auditoperatorhourlycount',
            index=models.Index(fields=['operator_username', 'hour', 'action', 'outcome', 'app', 'count'], name='audit_operator_hourly_app'),
        ),
        migrations.AddConstraint(
            model_name='accountmutestate',
            constraint=models.UniqueConstraint(fields=('app', 'account'), name='mutestate_app_account_unique'),
        ),
        migrations.AddConstraint(
            model_name='audithourlycount',
            constraint=models.UniqueConstraint(fields=('hour', 'action', 'outcome', 'app'), name='audit_hourly_app_unique'),
        ),
        migrations.AddConstraint(
            model_name='auditoperatorhourlycount',
            constraint=models.UniqueConstraint(fields=('operator_username', 'hour', 'action', 'outcome', 'app'), name='audit_operator_hourly_app_unique'),
        ),
    ]
