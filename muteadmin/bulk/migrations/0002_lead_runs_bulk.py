"""Leads may run bulk lookups and mutes."""

from django.db import migrations

from muteadmin.core.permission_grants import permissions_grant


class Migration(migrations.Migration):
    dependencies = [
        ("bulk", "0001_initial"),
        ("mutes", "0002_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(*permissions_grant("bulk", ["run_bulk"], groups=["Lead"]))]
