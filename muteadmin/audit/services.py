"""Writing the audit log: a pending row before each upstream call, completed after it."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from muteadmin.audit.models import AuditEntry


def audit_begin(
    *,
    operator: AbstractBaseUser | None,
    action: str,
    account: str,
    c2c_requested: int | None = None,
    group_requested: int | None = None,
    reason: str = "",
    client_ip: str | None = None,
) -> AuditEntry:
    """Record that a call is about to be made, committed before the call leaves."""
    # Its own transaction: a process that dies during the call still leaves this row behind.
    with transaction.atomic():
        return AuditEntry.objects.create(
            operator=operator if operator is not None and operator.is_authenticated else None,
            operator_username=operator.get_username() if operator is not None else "",
            action=action,
            account=account,
            c2c_requested=c2c_requested,
            group_requested=group_requested,
            reason=reason,
            client_ip=client_ip,
        )


def audit_complete(
    *,
    entry: AuditEntry,
    outcome: str,
    latency_ms: int,
    request_random: int | None,
    c2c_observed: int | None = None,
    group_observed: int | None = None,
    error_code: int | None = None,
    error_info: str = "",
) -> None:
    """Fill in what the call returned; a row can be completed once only."""
    fields = {
        "outcome": outcome,
        "latency_ms": latency_ms,
        "request_random": request_random,
        "c2c_observed": c2c_observed,
        "group_observed": group_observed,
        "error_code": error_code,
        "error_info": error_info,
        "completed_at": timezone.now(),
    }
    AuditEntry.objects.filter(pk=entry.pk, outcome=AuditEntry.Outcome.PENDING).update(**fields)
    for name, value in fields.items():
        setattr(entry, name, value)
