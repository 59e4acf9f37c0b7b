"""Leads may run bulk lookups and mutes."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

BULK_RUNNERS = ["Lead"]


def grant_run_bulk(apps, schema_editor):
    # Permissions are normally created after all migrations; the group needs this one now.
    bulk = apps.get_app_config("bulk")
    bulk.models_module = True
    create_permissions(bulk, apps=apps, verbosity=0)
    bulk.models_module = None

    Permission = apps.get_model("auth", "Permission")
    run_bulk = Permission.objects.get(content_type__app_label="bulk", codename="run_bulk")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=BULK_RUNNERS):
        group.permissions.add(run_bulk)


def revoke_run_bulk(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    run_bulk = Permission.objects.filter(content_type__app_label="bulk", codename="run_bulk")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=BULK_RUNNERS):
        group.permissions.remove(*run_bulk)


class Migration(migrations.Migration):
    dependencies = [
        ("bulk", "0001_initial"),
        ("mutes", "0002_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_run_bulk, revoke_run_bulk)]
