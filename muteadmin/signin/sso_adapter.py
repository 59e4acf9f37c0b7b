"""django-allauth's social account adapter for single sign-on: one provider, from settings; the
role its claims give applied at every sign-in; identities with no role refused and audited."""

from http import HTTPStatus
from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from django.shortcuts import render
from django.utils.translation import gettext as _

from muteadmin.core.http import client_ip
from muteadmin.signin.audit_rows import signin_audit_sso_failure
from muteadmin.signin.sso import (
    PROVIDER_ID,
    sso_app_config,
    sso_claim_values,
    sso_configured,
    sso_name,
    sso_role_for,
)
from muteadmin.team.services import team_role_from_sign_in

PROVIDER = "openid_connect"
# Where the role the claims give waits between pre_social_login and the new person's creation.
ROLE_STATE = "muteadmin_role"


def _claim_sets(sociallogin: SocialLogin) -> list[dict[str, Any]]:
    """What the provider said about the person: its userinfo answer, then the ID token."""
    data = sociallogin.account.extra_data or {}
    return [claims for claims in (data.get("userinfo"), data.get("id_token")) if claims]


def _identity_name(sociallogin: SocialLogin) -> str:
    """The name the provider gives the person, else their subject identifier."""
    for claims in _claim_sets(sociallogin):
        name = claims.get("preferred_username")
        if isinstance(name, str) and name.strip():
            return name
    return str(sociallogin.account.uid)


class SingleSignOnAdapter(DefaultSocialAccountAdapter):
    """The one OpenID Connect provider `OIDC_*` configures; nothing else signs anyone in."""

    def list_apps(
        self, request: HttpRequest | None, provider: str | None = None, client_id: str | None = None
    ) -> list[SocialApp]:
        # Only the settings' provider: an app added in the database opens no other door.
        if not sso_configured() or provider not in (None, PROVIDER, PROVIDER_ID):
            return []
        config = sso_app_config()
        if client_id and client_id != config["client_id"]:
            return []
        app = SocialApp(provider=PROVIDER)
        for field, value in config.items():
            setattr(app, field, value)
        return [app]

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # Whoever the provider vouches for with a role is added on first sign-in
        # (pre_social_login has refused everyone else).
        return True

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return True

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """Refuse an identity whose claims give no role; apply the role to a known person."""
        address = client_ip(request)
        name = _identity_name(sociallogin)
        known = sociallogin.user if sociallogin.is_existing else None
        details = {"provider": sso_name(), "subject": str(sociallogin.account.uid)}
        if sociallogin.state.get("process") == AuthProcess.CONNECT:
            self._refuse(
                request,
                user=known,
                name=name,
                details=details,
                sentence=_(
                    "Accounts here cannot be linked to %(provider)s: sign out, then sign in "
                    "with %(provider)s on its own."
                )
                % {"provider": sso_name()},
            )
        role = sso_role_for(sso_claim_values(_claim_sets(sociallogin)))
        if role is None:
            self._refuse(
                request,
                user=known,
                name=name,
                details=details,
                sentence=_(
                    "Your %(provider)s account gives you no role in muteadmin, so you cannot "
                    "sign in with it. Ask your administrator to add you to a group that gives "
                    "one, then sign in again."
                )
                % {"provider": sso_name()},
            )
        # Nothing from the provider is an e-mail address here: muteadmin sends none, and an
        # address must never join this identity to someone else's account.
        sociallogin.email_addresses = []
        sociallogin.state[ROLE_STATE] = role
        if known is not None:
            team_role_from_sign_in(
                user=known, role=role, source=sso_name(), added=False, client_ip=address
            )

    def _refuse(
        self,
        request: HttpRequest,
        *,
        user: AbstractBaseUser | None,
        name: str,
        details: dict[str, str],
        sentence: str,
    ) -> None:
        signin_audit_sso_failure(
            user=user,
            username=name,
            address=client_ip(request),
            error_info=sentence,
            details=details,
        )
        response = render(
            request,
            "signin/sso_refused.html",
            {"sentence": sentence, "provider_name": sso_name()},
            status=HTTPStatus.FORBIDDEN,
        )
        raise ImmediateHttpResponse(response)

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: dict) -> Any:
        user = super().populate_user(request, sociallogin, data)
        user.email = ""
        return user

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form=None) -> Any:
        """Add the person the provider vouches for, in the role their claims give."""
        user = super().save_user(request, sociallogin, form)
        team_role_from_sign_in(
            user=user,
            role=sociallogin.state[ROLE_STATE],
            source=sso_name(),
            added=True,
            client_ip=client_ip(request),
        )
        return user

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: str | None = None,
        exception: Exception | None = None,
        extra_context: dict | None = None,
    ) -> None:
        """A sign-in the provider denied, or that could not be completed: audited, never with
        what the request carried (only the kind of failure)."""
        kind = type(exception).__name__ if exception is not None else ""
        signin_audit_sso_failure(
            user=None,
            username="",
            address=client_ip(request),
            error_info=f"Signing in with {sso_name()} did not complete ({error or 'unknown'}).",
            details={"provider": sso_name(), "error": str(error or "unknown"), "exception": kind},
        )
