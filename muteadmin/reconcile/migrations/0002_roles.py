"""Every role that looks up accounts reads the watchlist; Leads add and remove accounts."""

from django.db import migrations

from muteadmin.core.permission_grants import permissions_grant

READERS = "mutes.query_mute"
EDITOR_CODENAMES = ["manage_watchlist", "view_watchedaccount"]


class Migration(migrations.Migration):
    dependencies = [
        ("reconcile", "0001_initial"),
        ("mutes", "0003_export_role"),
    ]

    operations = [
        migrations.RunPython(
            *permissions_grant(
                "reconcile", ["view_watchedaccount"], holders_of=READERS, revoke_from_all=True
            )
        ),
        migrations.RunPython(
            *permissions_grant("reconcile", EDITOR_CODENAMES, groups=["Lead"], revoke_from_all=True)
        ),
    ]
