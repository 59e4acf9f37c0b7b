"""django-allauth's adapters for muteadmin: throttled, audited sign-in, no sign-up, and a second
factor kept by those who must have one."""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django import forms
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse

from muteadmin.core.http import client_ip
from muteadmin.signin.audit_rows import signin_audit_failure, signin_audit_success
from muteadmin.signin.enrolment import mfa_enrolled, mfa_enrolment_require, mfa_required_for
from muteadmin.signin.sessions import session_start
from muteadmin.signin.sso import sso_name
from muteadmin.signin.throttle import signin_failure_record, signin_lockout, throttle_now


class SignInAdapter(DefaultAccountAdapter):
    """Refuses locked-out accounts and addresses before the password is checked, counts and
    audits each failure, and audits each completed sign-in."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Accounts are created by an administrator (Django admin), never by visitors.
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        # The same address the audit log records (REMOTE_ADDR, as the proxy in front sets it).
        return client_ip(request) or ""

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Refuse a locked-out account or address before spending a password hash on it."""
        username = credentials.get("username", "")
        address = client_ip(request)
        now = throttle_now()
        lockout = signin_lockout(username=username, address=address, now=now)
        if lockout is None:
            return
        sentence = lockout.sentence(now=now)
        signin_audit_failure(
            username=username,
            address=address,
            error_info=sentence,
            details={"locked_out": lockout.scope, "until": lockout.until.isoformat()},
        )
        raise forms.ValidationError(sentence, code="too_many_login_attempts")

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        """Count the failure; if it locks the account or address out, say so at once."""
        username = credentials.get("username", "")
        address = client_ip(request)
        now = throttle_now()
        signin_failure_record(username=username, address=address, now=now)
        lockout = signin_lockout(username=username, address=address, now=now)
        if lockout is None:
            signin_audit_failure(username=username, address=address)
            return
        sentence = lockout.sentence(now=now)
        signin_audit_failure(
            username=username,
            address=address,
            details={"locked_out": lockout.scope, "until": lockout.until.isoformat()},
        )
        raise forms.ValidationError(sentence, code="too_many_login_attempts")

    def login(self, request: HttpRequest, user: AbstractBaseUser) -> None:
        """Sign in (every factor passed): stamp the session's start."""
        super().login(request, user)
        session_start(request.session)

    def post_login(
        self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any
    ) -> HttpResponse:
        """Signed in: require enrolment where the role asks for it, and write the audit row,
        naming the way in (password, or the single sign-on provider)."""
        sociallogin = (kwargs.get("signal_kwargs") or {}).get("sociallogin")
        enrolled = mfa_enrolled(user)
        if sociallogin is None:
            way, details = "password", {}
        else:
            way = "single sign-on"
            details = {"provider": sso_name(), "subject": str(sociallogin.account.uid)}
        # A single sign-on user's second factor is the provider's to ask, unless the server
        # says otherwise (OIDC_TRUST_PROVIDER_MFA).
        if not enrolled and (sociallogin is None or not settings.OIDC_TRUST_PROVIDER_MFA):
            mfa_enrolment_require(request.session, user)
        signin_audit_success(
            user=user,
            address=client_ip(request),
            method=f"{way} and second factor" if enrolled else way,
            details=details,
        )
        return super().post_login(request, user, **kwargs)


class TwoFactorAdapter(DefaultMFAAdapter):
    """allauth's MFA adapter, keeping the second factor of those whose role requires one."""

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        return not mfa_required_for(authenticator.user)
