"""Leads may cancel anyone's scheduled change (anyone who may change mutes cancels their own)."""

from django.db import migrations

from muteadmin.core.permission_grants import permissions_grant


class Migration(migrations.Migration):
    dependencies = [
        ("scheduled", "0001_initial"),
        ("mutes", "0002_roles"),
    ]

    operations = [
        migrations.RunPython(
            *permissions_grant("scheduled", ["cancel_any_scheduled"], groups=["Lead"])
        )
    ]
