"""Chat-robot notification destinations and their deliveries."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
    ]

    operations = [
        migrations.CreateModel(
            name='Destination',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=64, unique=True)),
                ('kind', models.CharField(choices=[('wecom', 'WeCom group robot'), ('dingtalk', 'DingTalk robot'), ('feishu', 'Feishu / Lark custom bot'), ('slack', 'Slack incoming webhook'), ('webhook', 'Webhook (signed JSON)')], max_length=16)),
                ('url', models.CharField(max_length=2000)),
                ('secret', models.CharField(blank=True, max_length=200)),
                ('language', models.CharField(choices=[('en', 'English'), ('zh-hans', 'Simplified Chinese')], default='en', max_length=8)),
                ('events', models.JSONField(blank=True, default=list)),
                ('created_at', models.DateTimeField()),
                ('updated_at', models.DateTimeField()),
                ('failing_since', models.DateTimeField(blank=True, null=True)),
                ('last_success_at', models.DateTimeField(blank=True, null=True)),
                ('paused_at', models.DateTimeField(blank=True, null=True)),
                ('paused_reason', models.TextField(blank=True)),
            ],
            options={
                'ordering': ['name'],
                'permissions': [('manage_notifications', 'Can configure chat-robot notifications')],
                'default_permissions': (),
            },
        ),
        migrations.CreateModel(
            name='Delivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('event', models.CharField(max_length=32)),
                ('facts', models.JSONField(blank=True, default=dict)),
                ('status', models.CharField(choices=[('queued', 'Queued'), ('sending', 'Sending'), ('retrying', 'Waiting to retry'), ('sent', 'Sent'), ('failed', 'Failed'), ('skipped', 'Not sent (paused)')], default='queued', max_length=16)),
                ('attempts', models.PositiveIntegerField(default=0)),
                ('last_error', models.TextField(blank=True)),
                ('created_at', models.DateTimeField()),
                ('next_attempt_at', models.DateTimeField(blank=True, null=True)),
                ('last_attempt_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('destination', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='robots.destination')),
            ],
            options={
                'ordering': ['-id'],
                'default_permissions': (),
                'indexes': [models.Index(fields=['destination', '-id'], name='robots_delivery_recent')],
            },
        ),
    ]
