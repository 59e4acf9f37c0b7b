"""API tokens: create one (its secret shown once), revoke it, and find the token a request sent.

A token reads `mta_<key id>_<secret>`: the `mta_` prefix makes a leaked one easy to recognise
(secret scanners, logs), the key id finds its row, and only the SHA-256 of the whole token is
stored, compared in constant time. Each token acts through an account of its own, `token:<name>`,
with no password and the token's role, so the services see an operator like any other and every
audit row names the token. Creating and revoking are audited (action `team`), never the secret.
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from muteadmin.api.models import ApiToken
from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_record
from muteadmin.team.roles import MANAGE_TEAM, ROLES

TOKEN_PREFIX = "mta_"  # noqa: S105 - the public prefix, not a secret
OPERATOR_PREFIX = "token:"
KEY_ID_BYTES = 6  # 12 hex digits
SECRET_BYTES = 32  # 256 bits
DEFAULT_DAYS = 90
MAX_DAYS = 3650
SCOPES = tuple(ApiToken.Scope.values)
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
# Writing last_used_at on every request would cost a write per call: once a minute is enough.
LAST_USED_PRECISION = timedelta(minutes=1)
_TOKEN = re.compile(rf"{TOKEN_PREFIX}(?P<key_id>[0-9a-f]{{{KEY_ID_BYTES * 2}}})_[A-Za-z0-9_-]+")


class TokenRefused(Exception):
    """The token sent cannot be used: unknown, revoked or expired; the message says which."""


class TokenChangeRefused(Exception):
    """A token that cannot be created or revoked as asked; the message says why."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_operator(name: str) -> str:
    """The username a token's calls are audited under."""
    return f"{OPERATOR_PREFIX}{name}"


def _checked(*, name: str, scopes: Sequence[str], role: str, days: int) -> Group:
    if not NAME_PATTERN.fullmatch(name):
        raise TokenChangeRefused(
            gettext(
                "Name the token with 1 to 64 letters, digits, - or _, "
                "starting with a letter or digit."
            )
        )
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise TokenChangeRefused(
            gettext("Give the token one or more scopes of: %(scopes)s.")
            % {"scopes": ", ".join(SCOPES)}
        )
    if role not in ROLES:
        raise TokenChangeRefused(
            gettext("There is no role called %(role)s; choose %(roles)s.")
            % {"role": repr(role), "roles": ", ".join(ROLES)}
        )
    if not 1 <= days <= MAX_DAYS:
        raise TokenChangeRefused(
            gettext("A token lasts from 1 to %(days)s days.") % {"days": MAX_DAYS}
        )
    return Group.objects.get(name=role)


def api_token_create(
    *,
    name: str,
    scopes: Sequence[str],
    role: str,
    days: int = DEFAULT_DAYS,
    operator: AbstractBaseUser | None,
    client_ip: str | None = None,
) -> tuple[ApiToken, str]:
    """A new token and its secret, which is shown once and never stored.

    `operator` None is the server's operator at the command line. Raises PermissionDenied for
    someone who may not manage the team, TokenChangeRefused for a name taken or a bad value.
    """
    if operator is not None and not operator.has_perm(MANAGE_TEAM):
        raise PermissionDenied(gettext("Only Leads may create API tokens."))
    group = _checked(name=name, scopes=scopes, role=role, days=days)
    key_id = secrets.token_hex(KEY_ID_BYTES)
    secret = f"{TOKEN_PREFIX}{key_id}_{secrets.token_urlsafe(SECRET_BYTES)}"
    now = timezone.now()
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(username=api_token_operator(name))
            user.groups.set([group])
            token = ApiToken.objects.create(
                name=name,
                key_id=key_id,
                secret_hash=_hash(secret),
                scopes=[scope for scope in SCOPES if scope in scopes],
                role=group,
                user=user,
                created_by=operator,
                created_by_username=operator.get_username() if operator is not None else "",
                created_at=now,
                expires_at=now + timedelta(days=days),
            )
            _audit(operator, token, change="token_created", client_ip=client_ip)
    except IntegrityError:
        raise TokenChangeRefused(
            gettext(
                "A token named %(name)s exists already (revoked tokens keep their names); "
                "choose another name."
            )
            % {"name": name}
        ) from None
    return token, secret


def api_token_revoke(
    *, name: str, operator: AbstractBaseUser | None, client_ip: str | None = None
) -> ApiToken:
    """Revoke a token at once: its next request is refused. Revoking it again changes nothing."""
    if operator is not None and not operator.has_perm(MANAGE_TEAM):
        raise PermissionDenied(gettext("Only Leads may revoke API tokens."))
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(name=name).first()
        if token is None:
            raise TokenChangeRefused(gettext("There is no token named %(name)s.") % {"name": name})
        if token.revoked_at is not None:
            return token
        token.revoked_at = timezone.now()
        token.revoked_by_username = operator.get_username() if operator is not None else ""
        token.save(update_fields=["revoked_at", "revoked_by_username"])
        # Its account goes too, so nothing it may still hold (a session, a check) works.
        get_user_model().objects.filter(pk=token.user_id).update(is_active=False)
        _audit(operator, token, change="token_revoked", client_ip=client_ip)
    return token


def _audit(
    operator: AbstractBaseUser | None, token: ApiToken, *, change: str, client_ip: str | None
) -> AuditEntry:
    return audit_record(
        operator=operator,
        action=AuditEntry.Action.TEAM,
        client_ip=client_ip,
        details={
            "change": change,
            "token": token.name,
            "username": token.user.get_username(),
            "scopes": token.scopes,
            "role": token.role.name,
            "expires_at": token.expires_at.isoformat(),
        },
    )


def api_tokens() -> list[ApiToken]:
    """Every token, newest first, revoked ones included."""
    return list(ApiToken.objects.select_related("role").order_by("-created_at", "-id"))


def api_token_authenticate(raw: str) -> ApiToken:
    """The live token `raw` is, its last use recorded; TokenRefused with a sentence otherwise."""
    match = _TOKEN.fullmatch(raw)
    token = None
    if match is not None:
        token = (
            ApiToken.objects.select_related("user", "role").filter(key_id=match["key_id"]).first()
        )
    stored = token.secret_hash if token is not None else _hash("")
    if not hmac.compare_digest(stored, _hash(raw)) or token is None:
        raise TokenRefused(
            gettext("That token is not one this server issued; check it was copied whole.")
        )
    now = timezone.now()
    if token.revoked_at is not None or not token.user.is_active:
        raise TokenRefused(
            gettext("The token %(name)s was revoked; ask a Lead for a new one.")
            % {"name": token.name}
        )
    if token.expires_at <= now:
        raise TokenRefused(
            gettext("The token %(name)s expired at %(expired)s UTC; ask a Lead for a new one.")
            % {"name": token.name, "expired": f"{token.expires_at:%Y-%m-%d %H:%M}"}
        )
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
