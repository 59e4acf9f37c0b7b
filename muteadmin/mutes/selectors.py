"""What the account page reads besides Tencent: the account's recent changes from the audit log."""

from typing import Any

from muteadmin.audit.models import AuditEntry

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


def mute_recent_changes(*, account: str, limit: int = RECENT_CHANGES) -> list[dict[str, Any]]:
    """The latest change attempts on `account`, newest first: who, what, why and how it went."""
    changes = AuditEntry.objects.filter(account=account, action=AuditEntry.Action.CHANGE)
    return list(changes.order_by("-id").values(*RECENT_CHANGE_FIELDS)[:limit])
