"""Leads configure notifications; no other role opens the page."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITORS = ["Lead"]
CODENAMES = ["manage_notifications"]


def _permissions(apps):
    return apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="robots", codename__in=CODENAMES
    )


def grant(apps, schema_editor) -> None:
    robots = apps.get_app_config("robots")
    robots.models_module = True
    create_permissions(robots, apps=apps, verbosity=0)
    robots.models_module = None
    for group in apps.get_model("auth", "Group").objects.filter(name__in=EDITORS):
        group.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor) -> None:
    permissions = _permissions(apps)
    for group in apps.get_model("auth", "Group").objects.all():
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("robots", "0001_initial"),
        ("mutes", "0003_export_role"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
