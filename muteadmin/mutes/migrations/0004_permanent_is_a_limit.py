"""Muting permanently is a role's limit now (muteadmin.policies), not a permission of its own.

The policies migration that seeds the limits gives every group that held the permission an
unlimited limit first; the permission is then removed. Reversing it creates the permission
again and gives it back to the groups whose limits reach permanent on both kinds.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMANENT = 0xFFFFFFFF


def remove_permission(apps, schema_editor) -> None:
    apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="mutes", codename="mute_permanently"
    ).delete()


def restore_permission(apps, schema_editor) -> None:
    mutes = apps.get_app_config("mutes")
    mutes.models_module = True
    create_permissions(mutes, apps=apps, verbosity=0)
    mutes.models_module = None
    permission = apps.get_model("auth", "Permission").objects.get(
        content_type__app_label="mutes", codename="mute_permanently"
    )
    MuteLimit = apps.get_model("policies", "MuteLimit")
    for group in apps.get_model("auth", "Group").objects.all():
        unlimited = MuteLimit.objects.filter(group=group, longest_seconds__gte=PERMANENT).count()
        if unlimited == 2:
            group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("mutes", "0003_export_role"),
        ("policies", "0002_seed_limits"),
    ]

    operations = [
        migrations.RunPython(remove_permission, restore_permission),
        migrations.AlterModelOptions(
            name="mute",
            options={
                "default_permissions": (),
                "managed": False,
                "permissions": [
                    ("query_mute", "Can look up an account's mutes"),
                    ("change_mute", "Can mute, extend, shorten and lift mutes"),
                ],
            },
        ),
    ]
