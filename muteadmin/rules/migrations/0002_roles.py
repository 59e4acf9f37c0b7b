"""Every role that looks up accounts reads the rules; Leads create, change and retire them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITORS = ["Lead"]
EDITOR_CODENAMES = ["add_rule", "change_rule", "delete_rule", "view_rule"]


def _permissions(apps, codenames):
    return apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="rules", codename__in=codenames
    )


def grant(apps, schema_editor) -> None:
    rules = apps.get_app_config("rules")
    rules.models_module = True
    create_permissions(rules, apps=apps, verbosity=0)
    rules.models_module = None

    Group = apps.get_model("auth", "Group")
    view = _permissions(apps, ["view_rule"])
    readers = Group.objects.filter(
        permissions__content_type__app_label="mutes", permissions__codename="query_mute"
    ).distinct()
    for group in readers:
        group.permissions.add(*view)
    for group in Group.objects.filter(name__in=EDITORS):
        group.permissions.add(*_permissions(apps, EDITOR_CODENAMES))


def revoke(apps, schema_editor) -> None:
    permissions = _permissions(apps, EDITOR_CODENAMES)
    for group in apps.get_model("auth", "Group").objects.all():
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("rules", "0001_initial"),
        ("mutes", "0003_export_role"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
