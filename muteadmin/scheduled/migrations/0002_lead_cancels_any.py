"""Leads may cancel anyone's scheduled change (anyone who may change mutes cancels their own)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CANCELLERS = ["Lead"]
CODENAMES = ["cancel_any_scheduled"]


def grant(apps, schema_editor) -> None:
    scheduled = apps.get_app_config("scheduled")
    scheduled.models_module = True
    create_permissions(scheduled, apps=apps, verbosity=0)
    scheduled.models_module = None

    permissions = apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="scheduled", codename__in=CODENAMES
    )
    for group in apps.get_model("auth", "Group").objects.filter(name__in=CANCELLERS):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor) -> None:
    permissions = apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="scheduled", codename__in=CODENAMES
    )
    for group in apps.get_model("auth", "Group").objects.filter(name__in=CANCELLERS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("scheduled", "0001_initial"),
        ("mutes", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
