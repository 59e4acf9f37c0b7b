"""Leads configure notifications; no other role opens the page."""

from django.db import migrations

from muteadmin.core.permission_grants import permissions_grant


class Migration(migrations.Migration):
    dependencies = [
        ("robots", "0001_initial"),
        ("mutes", "0003_export_role"),
    ]

    operations = [
        migrations.RunPython(
            *permissions_grant(
                "robots", ["manage_notifications"], groups=["Lead"], revoke_from_all=True
            )
        )
    ]
