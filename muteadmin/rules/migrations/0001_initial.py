"""Policy rules."""

from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
    ]

    operations = [
        migrations.CreateModel(
            name='Rule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(max_length=32, unique=True)),
                ('title_en', models.CharField(max_length=100)),
                ('title_zh_hans', models.CharField(max_length=100)),
                ('description_en', models.TextField(blank=True)),
                ('description_zh_hans', models.TextField(blank=True)),
                ('ladders', models.JSONField(blank=True, default=dict)),
                ('window_days', models.PositiveIntegerField(default=90)),
                ('notify_by_default', models.BooleanField(default=False)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('changed_at', models.DateTimeField(auto_now=True)),
                ('retired_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['code'],
                'constraints': [models.CheckConstraint(condition=models.Q(('window_days__gte', 1)), name='rule_window_at_least_a_day')],
            },
        ),
    ]
