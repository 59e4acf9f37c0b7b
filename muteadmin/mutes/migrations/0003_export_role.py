"""Leads and Auditors may export the audit log and reports."""

from django.db import migrations

from muteadmin.core.permission_grants import permissions_grant


class Migration(migrations.Migration):
    dependencies = [
        ("mutes", "0002_roles"),
        ("audit", "0002_chain_details_indexes"),
    ]

    operations = [
        migrations.RunPython(
            *permissions_grant("audit", ["export_audit_log"], groups=["Lead", "Auditor"])
        )
    ]
