"""Leads manage the team: add staff, change roles, deactivate, reset two-factor sign-in."""

from django.db import migrations

from muteadmin.core.permission_grants import permissions_grant


class Migration(migrations.Migration):
    dependencies = [
        ("team", "0001_initial"),
        ("mutes", "0002_roles"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(*permissions_grant("team", ["manage_team"], groups=["Lead"]))
    ]
