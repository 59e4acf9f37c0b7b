"""Reading the audit log: the filtered rows every page, export and report starts from."""

from datetime import datetime

from django.db.models import Max, QuerySet

from muteadmin.audit.filters import AuditFilters
from muteadmin.audit.models import AuditEntry


def audit_filtered(*, filters: AuditFilters) -> QuerySet[AuditEntry]:
    """Rows matching `filters`, newest first (the order they were written)."""
    rows = AuditEntry.objects.all()
    if filters.account:
        rows = rows.filter(account=filters.account)
    if filters.operator:
        rows = rows.filter(operator_username=filters.operator)
    if filters.actions:
        rows = rows.filter(action__in=filters.actions)
    if filters.outcome:
        rows = rows.filter(outcome=filters.outcome)
    # Times become bounds on id, so every filter walks an (X, id) index in order instead of
    # sorting a time range; rows are numbered in the order they were written, as times are.
    if filters.since is not None:
        rows = rows.filter(id__gte=audit_first_id_from(moment=filters.since))
    if filters.until is not None:
        rows = rows.filter(id__lt=audit_first_id_from(moment=filters.until))
    if filters.q:
        rows = rows.filter(reason__icontains=filters.q)
    return rows.order_by("-id")


def audit_first_id_from(*, moment: datetime) -> int:
    """The id of the first row written at or after `moment` (one past the last if none was)."""
    first = (
        AuditEntry.objects.filter(created_at__gte=moment)
        .order_by("created_at")
        .values_list("id", flat=True)
        .first()
    )
    if first is not None:
        return first
    return (AuditEntry.objects.aggregate(last=Max("id"))["last"] or 0) + 1
