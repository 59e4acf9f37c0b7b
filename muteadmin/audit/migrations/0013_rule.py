"""Audit rows name the policy rule a change was made under, and rule changes are an action.

`rule` holds the rule's code (muteadmin.rules) on the rows of a change made under one, and on a
rule change's row; older rows have none, and their hashes were computed without it (see
chain.py). Choices are not stored in the database, so the AlterFields change nothing there.
"""

from django.db import migrations, models

# As in 0010: SQLite's guard lists the columns it protects, so the new one gets a trigger of its
# own; PostgreSQL's guard compares whole rows and covers it already.
SQLITE_TRIGGER = (
    "CREATE TRIGGER audit_rule_unchanged BEFORE UPDATE OF rule "
    "ON audit_auditentry WHEN OLD.outcome <> 'pending' "
    "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only: a completed audit row cannot be "
    "changed'); END"
)


def guard_install(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


def guard_uninstall(apps, schema_editor) -> None:
    entries = apps.get_model("audit", "AuditEntry").objects.using(schema_editor.connection.alias)
    if entries.filter(rule__isnull=False, chain_seq__isnull=False).exists():
        raise RuntimeError(
            "Completed audit rows name a rule, which their chain hashes cover; removing the "
            "column would break the chain, so this migration is not reversed."
        )
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_rule_unchanged")


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0012_signin_actions'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditentry',
            name='rule',
            field=models.CharField(blank=True, max_length=32, null=True),
        ),
        migrations.RunPython(guard_install, guard_uninstall, elidable=False),
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(choices=[('query', 'Query'), ('change', 'Change'), ('export', 'Export'), ('request_filed', 'Request filed'), ('request_approved', 'Request approved'), ('request_rejected', 'Request rejected'), ('request_expired', 'Request expired'), ('limit_change', 'Limit change'), ('team', 'Team change'), ('login', 'Sign-in'), ('login_failed', 'Failed sign-in'), ('rule_change', 'Rule change')], max_length=16),
        ),
        migrations.AlterField(
            model_name='audithourlycount',
            name='action',
            field=models.CharField(choices=[('query', 'Query'), ('change', 'Change'), ('export', 'Export'), ('request_filed', 'Request filed'), ('request_approved', 'Request approved'), ('request_rejected', 'Request rejected'), ('request_expired', 'Request expired'), ('limit_change', 'Limit change'), ('team', 'Team change'), ('login', 'Sign-in'), ('login_failed', 'Failed sign-in'), ('rule_change', 'Rule change')], max_length=16),
        ),
        migrations.AlterField(
            model_name='auditoperatorhourlycount',
            name='action',
            field=models.CharField(choices=[('query', 'Query'), ('change', 'Change'), ('export', 'Export'), ('request_filed', 'Request filed'), ('request_approved', 'Request approved'), ('request_rejected', 'Request rejected'), ('request_expired', 'Request expired'), ('limit_change', 'Limit change'), ('team', 'Team change'), ('login', 'Sign-in'), ('login_failed', 'Failed sign-in'), ('rule_change', 'Rule change')], max_length=16),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(condition=models.Q(('rule__isnull', False)), fields=['rule', '-id'], name='audit_rule_recent'),
        ),
    ]
