"""Mute requests name the policy rule they are asked under."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('approvals', '0002_lead_decides'),
    ]

    operations = [
        migrations.AddField(
            model_name='muterequest',
            name='rule',
            field=models.CharField(blank=True, default='', max_length=32),
        ),
    ]
