"""Refusals in the audit log: who asked for what, and why it was refused (`denied`).

Written complete through audit_record, so the hash chain covers it like any other row.
Nothing was sent to Tencent.
"""

import uuid
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_record
from muteadmin.tencent.accounts import InvalidAccount, validate_account


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
    on_behalf_of: str | None = None,
) -> AuditEntry:
    """Record a refusal: `operator` asked for `asked` (a short word: change, bulk, approve...)
    and was refused because `refused` (the sentence they were shown). Nothing was sent.

    `on_behalf_of` names the requester whose approved request was being carried out.
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
        on_behalf_of=on_behalf_of,
        details={
            "asked": asked,
            **({"account_invalid": True} if account_given and not account else {}),
            **(details or {}),
        },
    )
