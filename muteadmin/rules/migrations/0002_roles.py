"""Every role that looks up accounts reads the rules; Leads create, change and retire them."""

from django.db import migrations

from muteadmin.core.permission_grants import permissions_grant

READERS = "mutes.query_mute"
EDITOR_CODENAMES = ["add_rule", "change_rule", "delete_rule", "view_rule"]


class Migration(migrations.Migration):
    dependencies = [
        ("rules", "0001_initial"),
        ("mutes", "0003_export_role"),
    ]

    operations = [
        migrations.RunPython(
            *permissions_grant("rules", ["view_rule"], holders_of=READERS, revoke_from_all=True)
        ),
        migrations.RunPython(
            *permissions_grant("rules", EDITOR_CODENAMES, groups=["Lead"], revoke_from_all=True)
        ),
    ]
