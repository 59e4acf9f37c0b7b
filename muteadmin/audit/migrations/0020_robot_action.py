"""Changes to chat-robot notification destinations are audit rows of their own action, `robot`.

Choices are not stored in the database, so the AlterFields change nothing there.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0019_watchlist_action'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(choices=[('query', 'Query'), ('change', 'Change'), ('export', 'Export'), ('request_filed', 'Request filed'), ('request_approved', 'Request approved'), ('request_rejected', 'Request rejected'), ('request_expired', 'Request expired'), ('limit_change', 'Limit change'), ('team', 'Team change'), ('login', 'Sign-in'), ('login_failed', 'Failed sign-in'), ('rule_change', 'Rule change'), ('cancel', 'Cancel'), ('denied', 'Denied'), ('notice', 'Notice'), ('note', 'Note'), ('scheduled', 'Scheduled change'), ('drift', 'Drift'), ('watchlist', 'Watchlist change'), ('robot', 'Notification change')], max_length=16),
        ),
        migrations.AlterField(
            model_name='audithourlycount',
            name='action',
            field=models.CharField(choices=[('query', 'Query'), ('change', 'Change'), ('export', 'Export'), ('request_filed', 'Request filed'), ('request_approved', 'Request approved'), ('request_rejected', 'Request rejected'), ('request_expired', 'Request expired'), ('limit_change', 'Limit change'), ('team', 'Team change'), ('login', 'Sign-in'), ('login_failed', 'Failed sign-in'), ('rule_change', 'Rule change'), ('cancel', 'Cancel'), ('denied', 'Denied'), ('notice', 'Notice'), ('note', 'Note'), ('scheduled', 'Scheduled change'), ('drift', 'Drift'), ('watchlist', 'Watchlist change'), ('robot', 'Notification change')], max_length=16),
        ),
        migrations.AlterField(
            model_name='auditoperatorhourlycount',
            name='action',
            field=models.CharField(choices=[('query', 'Query'), ('change', 'Change'), ('export', 'Export'), ('request_filed', 'Request filed'), ('request_approved', 'Request approved'), ('request_rejected', 'Request rejected'), ('request_expired', 'Request expired'), ('limit_change', 'Limit change'), ('team', 'Team change'), ('login', 'Sign-in'), ('login_failed', 'Failed sign-in'), ('rule_change', 'Rule change'), ('cancel', 'Cancel'), ('denied', 'Denied'), ('notice', 'Notice'), ('note', 'Note'), ('scheduled', 'Scheduled change'), ('drift', 'Drift'), ('watchlist', 'Watchlist change'), ('robot', 'Notification change')], max_length=16),
        ),
    ]
