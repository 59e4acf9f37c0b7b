"""Bulk jobs name the policy rule their change is made under."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('bulk', '0004_job_app'),
    ]

    operations = [
        migrations.AddField(
            model_name='bulkjob',
            name='rule',
            field=models.CharField(blank=True, default='', max_length=32),
        ),
    ]
