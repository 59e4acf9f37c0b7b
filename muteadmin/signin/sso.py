"""Single sign-on with an OpenID Connect provider: its configuration and the role its claims give.

Off until `OIDC_SERVER_URL`, `OIDC_CLIENT_ID` and `OIDC_CLIENT_SECRET` are set; then `/login/`
offers "Sign in with `OIDC_NAME`" beside the password form. The provider's `OIDC_ROLE_CLAIM`
(a list of strings, or one string; `a.b` also reads claim `b` inside claim `a`) is looked up in
`OIDC_ROLE_MAP`, entries `claim-value:Role`; the first entry, in the map's order, whose value the
claim holds gives the person's one role. An identity whose claim maps to no role is refused.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from muteadmin.team.roles import ROLES

# allauth's id for the one configured provider: its URLs are /accounts/oidc/sso/login/ and
# /accounts/oidc/sso/login/callback/ (the redirect URI to register at the provider).
PROVIDER_ID = "sso"


class RoleMapInvalid(ValueError):
    """`OIDC_ROLE_MAP` holds an entry that is not `claim-value:Role` with a known role."""


@dataclass(frozen=True)
class RoleMapping:
    """One `OIDC_ROLE_MAP` entry: a value of the role claim and the role it gives."""

    value: str
    role: str


def sso_configured() -> bool:
    """Whether single sign-on is offered: the provider, client id and client secret are set."""
    return bool(
        settings.OIDC_SERVER_URL and settings.OIDC_CLIENT_ID and settings.OIDC_CLIENT_SECRET
    )


def sso_name() -> str:
    """The provider's name as the sign-in button and the pages say it."""
    return settings.OIDC_NAME or "SSO"


def sso_role_map(entries: list[str] | None = None) -> list[RoleMapping]:
    """`OIDC_ROLE_MAP` read: each `claim-value:Role`, split at its last colon (values may hold
    colons, as URNs do), in the order given."""
    mappings = []
    for entry in settings.OIDC_ROLE_MAP if entries is None else entries:
        value, colon, role = entry.strip().rpartition(":")
        value, role = value.strip(), role.strip()
        if not colon or not value:
            raise RoleMapInvalid(
                f"OIDC_ROLE_MAP entry {entry!r} is not claim-value:Role (for example leads:Lead)."
            )
        if role not in ROLES:
            raise RoleMapInvalid(
                f"OIDC_ROLE_MAP entry {entry!r} names no role; use one of {', '.join(ROLES)}."
            )
        mappings.append(RoleMapping(value=value, role=role))
    return mappings


def _claim(claims: Mapping[str, Any], name: str) -> Any:
    """Claim `name`; failing that, `a.b` read as claim `b` inside claim `a` (Keycloak's
    `realm_access.roles`). A namespaced claim (`https://example.com/roles`) is read whole."""
    if name in claims:
        return claims[name]
    found: Any = claims
    for part in name.split("."):
        if not isinstance(found, Mapping) or part not in found:
            return None
        found = found[part]
    return found


def sso_claim_values(claims_sets: list[Mapping[str, Any]]) -> list[str]:
    """The role claim's values, from the first of the claim sets (userinfo, then the ID token)
    that carries it."""
    for claims in claims_sets:
        held = _claim(claims, settings.OIDC_ROLE_CLAIM)
        if held is None:
            continue
        if isinstance(held, str):
            return [held]
        if isinstance(held, list | tuple):
            return [value for value in held if isinstance(value, str)]
        return []
    return []


def sso_role_for(values: list[str]) -> str | None:
    """The role these claim values give: the first `OIDC_ROLE_MAP` entry they hold, or None."""
    held = set(values)
    for mapping in sso_role_map():
        if mapping.value in held:
            return mapping.role
    return None


def sso_app_config() -> dict[str, Any]:
    """The provider as allauth's `openid_connect` app takes it (discovery through
    `/.well-known/openid-configuration` under the server URL, PKCE always on)."""
    return {
        "provider_id": PROVIDER_ID,
        "name": sso_name(),
        "client_id": settings.OIDC_CLIENT_ID,
        "secret": settings.OIDC_CLIENT_SECRET,
        "settings": {
            "server_url": settings.OIDC_SERVER_URL,
            "scope": list(settings.OIDC_SCOPES),
            "oauth_pkce_enabled": True,
        },
    }
