"""What the account page reads besides Tencent: the account's recent changes from the audit log."""

from django.db.models import QuerySet

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.selectors import audit_app_matches
from muteadmin.upstream.registry import DEFAULT_APP

RECENT_CHANGES = 10


def mute_recent_changes(
    *, account: str, app: str = DEFAULT_APP, limit: int = RECENT_CHANGES
) -> QuerySet[AuditEntry]:
    """The latest change attempts on `account` in `app`, newest first: who, what, why, outcome."""
    changes = AuditEntry.objects.filter(account=account, action=AuditEntry.Action.CHANGE)
    return changes.filter(audit_app_matches(app)).order_by("-id")[:limit]
