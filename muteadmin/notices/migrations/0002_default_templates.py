"""The default notice texts in English and Simplified Chinese; Leads may edit notice texts."""

from django.db import migrations

from muteadmin.core.permission_grants import permissions_grant

EDITORS = ["Lead"]
DEFAULTS = [
    (
        "en",
        "UTC",
        "Your account has been muted: you cannot send {kinds}. Length: {duration}. "
        "Ends: {ends_at}. Reason: {reason}",
    ),
    (
        "zh-hans",
        "Asia/Shanghai",
        "您的账号已被禁言,暂时无法发送{kinds}。时长:{duration}。结束时间:{ends_at}。原因:{reason}",
    ),
]


def seed(apps, schema_editor):
    NoticeTemplate = apps.get_model("notices", "NoticeTemplate")
    for language, time_zone, text in DEFAULTS:
        NoticeTemplate.objects.get_or_create(
            rule_code="", language=language, defaults={"time_zone": time_zone, "text": text}
        )
    grant, _ = permissions_grant("notices", ["change_noticetemplate"], groups=EDITORS)
    grant(apps, schema_editor)


def unseed(apps, schema_editor):
    apps.get_model("notices", "NoticeTemplate").objects.filter(rule_code="").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notices", "0001_initial"),
        ("mutes", "0002_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
