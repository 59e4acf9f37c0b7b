"""mute_recent_changes: the account page's history, one app's change attempts, newest first."""

import pytest

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_begin
from muteadmin.mutes.selectors import RECENT_CHANGE_FIELDS, mute_recent_changes
from muteadmin.upstream.registry import DEFAULT_APP

pytestmark = pytest.mark.django_db


def begun(account: str, *, action: str = "change", app: str | None = None, reason: str = ""):
    return audit_begin(
        operator=None, action=action, account=account, app=app, reason=reason, c2c_requested=60
    )


def test_one_apps_changes_newest_first_as_the_orm_reads_them():
    older = begun("olga", reason="first")
    begun("olga", action="query")
    begun("olga", app="other", reason="elsewhere")
    begun("someone-else", reason="not olga")
    newer = begun("olga", reason="second")
    changes = mute_recent_changes(account="olga")
    assert [change["reason"] for change in changes] == ["second", "first"]
    expected = AuditEntry.objects.filter(pk__in=[newer.pk, older.pk]).order_by("-id")
    assert changes == list(expected.values(*RECENT_CHANGE_FIELDS))
    assert [c["reason"] for c in mute_recent_changes(account="olga", app="other")] == ["elsewhere"]


def test_the_default_app_includes_rows_written_before_apps_had_names():
    begun("olga", reason="unnamed")
    AuditEntry.objects.update(app=None)
    begun("olga", app=DEFAULT_APP, reason="named")
    assert [c["reason"] for c in mute_recent_changes(account="olga")] == ["named", "unnamed"]
    assert mute_recent_changes(account="olga", app="other") == []


def test_at_most_limit_changes():
    for n in range(4):
        begun("olga", reason=f"r{n}")
    assert [c["reason"] for c in mute_recent_changes(account="olga", limit=2)] == ["r3", "r2"]
