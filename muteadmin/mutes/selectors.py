"""What the account page reads besides Tencent: the account's recent changes from the audit log."""

from django.db.models import QuerySet

from muteadmin.audit.models import AuditEntry

RECENT_CHANGES = 10


def mute_recent_changes(*, account: str, limit: int = RECENT_CHANGES) -> QuerySet[AuditEntry]:
    """The latest change attempts on `account`, newest first: who, what, why and how it went."""
    return AuditEntry.objects.filter(account=account, action=AuditEntry.Action.CHANGE).order_by(
        "-id"
    )[:limit]
