"""Who must set up two-factor sign-in: members of `MFA_REQUIRED_GROUPS`.

Checked once, when a session signs in: a session that must enrol carries a flag, and only such
sessions pay for a query on later requests (to see whether enrolment is done). Other sessions
cost nothing extra.
"""

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase

MUST_ENROL = "muteadmin_mfa_must_enrol"


def mfa_required_for(user: AbstractBaseUser) -> bool:
    """Whether the user's groups oblige them to use two-factor sign-in."""
    groups = [name for name in settings.MFA_REQUIRED_GROUPS if name]
    return bool(groups) and user.groups.filter(name__in=groups).exists()


def mfa_enrolled(user: AbstractBaseUser) -> bool:
    """Whether the user has a second factor (a TOTP app) set up."""
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def mfa_enrolment_require(session: SessionBase, user: AbstractBaseUser) -> None:
    """Flag a session just signed in without a second factor, if its user must have one."""
    if mfa_required_for(user):
        session[MUST_ENROL] = True


def mfa_enrolment_pending(session: SessionBase, user: AbstractBaseUser) -> bool:
    """Whether this session must still enrol; clears the flag once the user has."""
    if not session.get(MUST_ENROL):
        return False
    if mfa_enrolled(user):
        del session[MUST_ENROL]
        return False
    return True
