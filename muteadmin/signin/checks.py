"""System checks for single sign-on's settings: all of it or none, with a role map that holds."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

from muteadmin.signin.sso import RoleMapInvalid, sso_configured, sso_role_map

REQUIRED = ("OIDC_SERVER_URL", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET")


@checks.register(checks.Tags.security)
def check_single_sign_on(app_configs, **kwargs) -> list[checks.CheckMessage]:
    given = [name for name in REQUIRED if getattr(settings, name)]
    if not given:
        return []
    if not sso_configured():
        missing = ", ".join(name for name in REQUIRED if name not in given)
        return [
            checks.Error(
                f"Single sign-on is half configured: {missing} not set, so nobody can use it.",
                hint=f"Set all of {', '.join(REQUIRED)}, or none of them.",
                id="muteadmin.E201",
            )
        ]
    errors = []
    scheme = urlsplit(settings.OIDC_SERVER_URL).scheme
    if scheme != "https" and not (scheme == "http" and settings.DEBUG):
        errors.append(
            checks.Error(
                "OIDC_SERVER_URL must be an https:// address (plain http only while DEBUG).",
                hint="Give the provider's issuer URL, e.g. https://sso.example.com/realms/staff.",
                id="muteadmin.E202",
            )
        )
    try:
        mappings = sso_role_map()
    except RoleMapInvalid as exc:
        errors.append(checks.Error(str(exc), id="muteadmin.E203"))
    else:
        if not mappings:
            errors.append(
                checks.Error(
                    "OIDC_ROLE_MAP is empty, so single sign-on would refuse everyone.",
                    hint="Map OIDC_ROLE_CLAIM values to roles: mod-team:Moderator,leads:Lead",
                    id="muteadmin.E204",
                )
            )
    return errors
