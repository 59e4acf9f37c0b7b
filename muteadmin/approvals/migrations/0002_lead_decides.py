"""Leads approve and reject mute requests."""

from django.db import migrations

from muteadmin.core.permission_grants import permissions_grant


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0001_initial"),
        ("mutes", "0002_roles"),
    ]

    operations = [
        migrations.RunPython(
            *permissions_grant(
                "approvals", ["decide_muterequest", "view_muterequest"], groups=["Lead"]
            )
        )
    ]
