"""The mute report names the rule of the change that set each mute, and filters by it.

States written before rules existed have none; audit_derived_rebuild fills it in from the log.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0013_rule'),
    ]

    operations = [
        migrations.AddField(
            model_name='accountmutestate',
            name='last_rule',
            field=models.CharField(blank=True, default='', max_length=32),
        ),
        migrations.AddIndex(
            model_name='accountmutestate',
            index=models.Index(fields=['last_rule', 'active_until'], name='mutestate_rule'),
        ),
    ]
