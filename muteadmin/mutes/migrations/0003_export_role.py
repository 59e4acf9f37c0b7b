"""Leads and Auditors may export the audit log and reports."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EXPORTERS = ["Lead", "Auditor"]


def grant_export(apps, schema_editor):
    audit = apps.get_app_config("audit")
    audit.models_module = True
    create_permissions(audit, apps=apps, verbosity=0)
    audit.models_module = None

    Permission = apps.get_model("auth", "Permission")
    export = Permission.objects.get(content_type__app_label="audit", codename="export_audit_log")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=EXPORTERS):
        group.permissions.add(export)


def revoke_export(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    export = Permission.objects.filter(content_type__app_label="audit", codename="export_audit_log")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=EXPORTERS):
        group.permissions.remove(*export)


class Migration(migrations.Migration):
    dependencies = [
        ("mutes", "0002_roles"),
        ("audit", "0002_chain_details_indexes"),
    ]

    operations = [migrations.RunPython(grant_export, revoke_export)]
