"""Every role that looks up accounts reads the watchlist; Leads add and remove accounts."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITORS = ["Lead"]
EDITOR_CODENAMES = ["manage_watchlist", "view_watchedaccount"]


def _permissions(apps, codenames):
    return apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="reconcile", codename__in=codenames
    )


def grant(apps, schema_editor) -> None:
    reconcile = apps.get_app_config("reconcile")
    reconcile.models_module = True
    create_permissions(reconcile, apps=apps, verbosity=0)
    reconcile.models_module = None

    Group = apps.get_model("auth", "Group")
    view = _permissions(apps, ["view_watchedaccount"])
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
        ("reconcile", "0001_initial"),
        ("mutes", "0003_export_role"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
