"""What the account page reads besides Tencent: the account's recent changes from the audit log."""

from typing import Any

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.selectors import audit_app_matches
from muteadmin.upstream.registry import DEFAULT_APP

RECENT_CHANGES = 10
# What the page shows of each change.
RECENT_CHANGE_FIELDS = (
    "created_at",
    "operator_username",
    "c2c_requested",
    "group_requested",
    "reason",
    "outcome",
    "error_code",
)


def mute_recent_changes(
    *, account: str, app: str = DEFAULT_APP, limit: int = RECENT_CHANGES
) -> list[dict[str, Any]]:
    """The latest change attempts on `account` in `app`, newest first: who, what, why, outcome."""
    changes = AuditEntry.objects.filter(account=account, action=AuditEntry.Action.CHANGE)
    changes = changes.filter(audit_app_matches(app)).order_by("-id")
    return list(changes.values(*RECENT_CHANGE_FIELDS)[:limit])
