"""Two-factor sign-in as the team page sees it: who has a second factor, and taking it away.

Second factors are django-allauth's (allauth.mfa). On a server without that app installed
nobody has one, and there is nothing to reset; the page says so.
"""

from collections.abc import Iterable

from django.apps import apps
from django.contrib.auth.base_user import AbstractBaseUser

MFA_APP = "allauth.mfa"


def two_factor_available() -> bool:
    """Whether this server offers two-factor sign-in at all."""
    return apps.is_installed(MFA_APP)


def two_factor_enrolled_ids(*, user_ids: Iterable[int]) -> set[int]:
    """Which of these users have a second factor set up (recovery codes alone are none)."""
    if not two_factor_available():
        return set()
    from allauth.mfa.models import Authenticator  # only when installed

    return set(
        Authenticator.objects.filter(user_id__in=list(user_ids))
        .exclude(type=Authenticator.Type.RECOVERY_CODES)
        .values_list("user_id", flat=True)
    )


def two_factor_remove(*, user: AbstractBaseUser) -> int:
    """Remove every second factor of `user` (apps, keys, recovery codes); how many there were.

    They sign in with their password alone until they set one up again.
    """
    if not two_factor_available():
        return 0
    from allauth.mfa.models import Authenticator  # only when installed

    removed, _ = Authenticator.objects.filter(user=user).delete()
    return removed
