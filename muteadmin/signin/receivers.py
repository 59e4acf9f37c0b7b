"""A wrong second-factor code, as allauth reports it (its one public hook for that): counted and
audited like a wrong password."""

from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authentication_failed
from django.contrib.auth.base_user import AbstractBaseUser
from django.dispatch import receiver
from django.http import HttpRequest

from muteadmin.core.http import client_ip
from muteadmin.signin.audit_rows import signin_audit_failure
from muteadmin.signin.throttle import signin_failure_record, throttle_now

WRONG_CODE = "Wrong two-factor code."


@receiver(authentication_failed, sender=Authenticator, dispatch_uid="signin_second_factor_failed")
def second_factor_failed(
    sender: type,
    *,
    request: HttpRequest,
    user: AbstractBaseUser,
    reauthentication: bool = False,
    **kwargs: Any,
) -> None:
    address = client_ip(request)
    signin_failure_record(username=user.get_username(), address=address, now=throttle_now())
    signin_audit_failure(
        username=user.get_username(),
        address=address,
        error_info=WRONG_CODE,
        details={"second_factor": True, "reauthentication": reauthentication},
    )
