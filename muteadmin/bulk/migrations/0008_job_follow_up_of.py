"""A bulk job may take up again the failed or not-sent accounts of a finished one."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('bulk', '0007_notice_language'),
    ]

    operations = [
        migrations.AddField(
            model_name='bulkjob',
            name='follow_up_of',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='follow_ups', to='bulk.bulkjob'),
        ),
    ]
