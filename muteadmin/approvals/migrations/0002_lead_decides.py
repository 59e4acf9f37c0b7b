"""Leads approve and reject mute requests."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

DECIDERS = ["Lead"]
CODENAMES = ["decide_muterequest", "view_muterequest"]


def grant(apps, schema_editor) -> None:
    approvals = apps.get_app_config("approvals")
    approvals.models_module = True
    create_permissions(approvals, apps=apps, verbosity=0)
    approvals.models_module = None

    permissions = apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="approvals", codename__in=CODENAMES
    )
    for group in apps.get_model("auth", "Group").objects.filter(name__in=DECIDERS):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor) -> None:
    permissions = apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="approvals", codename__in=CODENAMES
    )
    for group in apps.get_model("auth", "Group").objects.filter(name__in=DECIDERS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0001_initial"),
        ("mutes", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
