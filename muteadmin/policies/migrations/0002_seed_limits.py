"""Seed the role limits from what each group could do, and let Leads change them.

A group that could mute permanently (`mutes.mute_permanently`, the Lead) may set any length of
either kind, permanent included; one that could change mutes without it (the Moderator) may set
up to 7 days of each; any other (the Auditor) none. Leads get the permission to change the
limits; every role may read them.
"""

from django.db import migrations

from muteadmin.core.permission_grants import permissions_grant

PERMANENT = 0xFFFFFFFF
SEVEN_DAYS = 7 * 86400
KINDS = ("c2c", "group")
EDITORS = ["Lead"]
READERS = ["Moderator", "Lead", "Auditor"]


def _permission(apps, dotted: str):
    app_label, codename = dotted.split(".")
    return (
        apps.get_model("auth", "Permission")
        .objects.filter(content_type__app_label=app_label, codename=codename)
        .first()
    )


def seed(apps, schema_editor) -> None:
    Group = apps.get_model("auth", "Group")
    MuteLimit = apps.get_model("policies", "MuteLimit")
    permanent = _permission(apps, "mutes.mute_permanently")
    change = _permission(apps, "mutes.change_mute")
    for group in Group.objects.all():
        held = set(group.permissions.all())
        if permanent is not None and permanent in held:
            longest = PERMANENT
        elif change is not None and change in held:
            longest = SEVEN_DAYS
        else:
            longest = 0
        for kind in KINDS:
            MuteLimit.objects.get_or_create(
                group=group, kind=kind, defaults={"longest_seconds": longest}
            )
    grant_edit, _ = permissions_grant("policies", ["change_mutelimit"], groups=EDITORS)
    grant_view, _ = permissions_grant("policies", ["view_mutelimit"], groups=READERS)
    grant_edit(apps, schema_editor)
    grant_view(apps, schema_editor)


def unseed(apps, schema_editor) -> None:
    apps.get_model("policies", "MuteLimit").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0001_initial"),
        ("mutes", "0003_export_role"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
