"""Audit rows for sign-ins: every sign-in, failed sign-in and lock-out, chained like any other,
each also written as a log line (without the password, which never reaches this module)."""

import logging
import unicodedata
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_begin, audit_complete

# A username as typed is kept this long at most (Django's own usernames are no longer).
TYPED_USERNAME_MAX = 150
WRONG_CREDENTIALS = "Wrong username or password."

logger = logging.getLogger(__name__)


def typed_username(username: str) -> str:
    """The username as typed, safe to store: no control characters, at most TYPED_USERNAME_MAX."""
    printable = "".join(
        " " if unicodedata.category(char).startswith("C") else char for char in username.strip()
    )
    if len(printable) > TYPED_USERNAME_MAX:
        return printable[: TYPED_USERNAME_MAX - 1] + "…"
    return printable


def _known_user(username: str) -> AbstractBaseUser | None:
    """The user a typed username names, if any, so the row links to them."""
    model = get_user_model()
    return model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()


def _audit(
    *,
    action: str,
    user: AbstractBaseUser | None,
    username: str,
    address: str | None,
    outcome: str,
    error_info: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = audit_begin(
        operator=user,
        action=action,
        account="",
        client_ip=address,
        details={"username": typed_username(username), **(details or {})},
    )
    audit_complete(
        entry=entry, outcome=outcome, latency_ms=0, request_random=None, error_info=error_info
    )
    return entry


def signin_audit_success(
    *,
    user: AbstractBaseUser,
    address: str | None,
    method: str,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """A completed sign-in (`method`: password, single sign-on, either with a second factor)."""
    logger.info("Signed in: %r from %s (%s).", user.get_username(), address or "unknown", method)
    return _audit(
        action=AuditEntry.Action.LOGIN,
        user=user,
        username=user.get_username(),
        address=address,
        outcome=AuditEntry.Outcome.OK,
        details={"method": method, **(details or {})},
    )


def signin_audit_sso_failure(
    *,
    user: AbstractBaseUser | None,
    username: str,
    address: str | None,
    error_info: str,
    details: dict[str, Any],
) -> AuditEntry:
    """A refused or failed single sign-on: `user` is the person the identity is linked to, if
    any (never someone who merely shares the name the provider gave)."""
    logger.warning(
        "Failed single sign-on for %r from %s: %s",
        typed_username(username),
        address or "unknown",
        error_info,
    )
    return _audit(
        action=AuditEntry.Action.LOGIN_FAILED,
        user=user,
        username=username,
        address=address,
        outcome=AuditEntry.Outcome.ERROR,
        error_info=error_info,
        details={"method": "single sign-on", **details},
    )


def signin_audit_failure(
    *,
    username: str,
    address: str | None,
    error_info: str = WRONG_CREDENTIALS,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """A failed or refused sign-in for the account named `username` (never the password)."""
    logger.warning(
        "Failed sign-in for %r from %s: %s%s",
        typed_username(username),
        address or "unknown",
        error_info,
        f" (locked out: {details['locked_out']})" if details and "locked_out" in details else "",
    )
    return _audit(
        action=AuditEntry.Action.LOGIN_FAILED,
        user=_known_user(username),
        username=username,
        address=address,
        outcome=AuditEntry.Outcome.ERROR,
        error_info=error_info,
        details=details,
    )
