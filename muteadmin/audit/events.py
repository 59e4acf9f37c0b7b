"""Audit rows that record no call to Tencent: a refusal (`denied`) and a bulk job's cancel.

Each is begun and completed in one transaction through the audit services, so the hash chain
covers it like any other row.
"""

import uuid
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_begin, audit_complete
from muteadmin.tencent.accounts import InvalidAccount, validate_account


def audit_record(
    *,
    operator: AbstractBaseUser | None,
    action: str,
    account: str = "",
    outcome: str = AuditEntry.Outcome.OK,
    error_info: str = "",
    **fields: Any,
) -> AuditEntry:
    """Write a completed row at once for something done here; `fields` are audit_begin's."""
    with transaction.atomic():
        entry = audit_begin(operator=operator, action=action, account=account, **fields)
        audit_complete(
            entry=entry,
            outcome=outcome,
            latency_ms=None,
            request_random=None,
            error_info=error_info,
        )
    return entry


def audit_denied(
    *,
    operator: AbstractBaseUser | None,
    asked: str,
    refused: str,
    account: str = "",
    c2c_requested: int | None = None,
    group_requested: int | None = None,
    reason: str = "",
    client_ip: str | None = None,
    app: str | None = None,
    details: Mapping[str, Any] | None = None,
    correlation_id: uuid.UUID | None = None,
) -> AuditEntry:
    """Record a refusal: `operator` asked for `asked` (a short word: change, bulk, approve...)
    and was refused because `refused` (the sentence they were shown). Nothing was sent.

    `account` is kept only when it is a valid UserID (an invalid one is recorded as given no
    account, never as typed); `details` adds what else was asked. Outcome `error`.
    """
    try:
        validate_account(account)
    except InvalidAccount:
        account_given = bool(account)
        account = ""
    else:
        account_given = True
    return audit_record(
        operator=operator,
        action=AuditEntry.Action.DENIED,
        account=account,
        outcome=AuditEntry.Outcome.ERROR,
        error_info=refused,
        c2c_requested=c2c_requested,
        group_requested=group_requested,
        reason=reason,
        client_ip=client_ip,
        app=app,
        correlation_id=correlation_id,
        details={
            "asked": asked,
            **({"account_invalid": True} if account_given and not account else {}),
            **(details or {}),
        },
    )
