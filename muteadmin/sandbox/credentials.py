"""The app the emulator pretends to be: its SDKAppID, secret key and admin account."""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac

# Tencent's own example SDKAppID (the one in its UserSig samples): obviously not a real app.
SANDBOX_SDKAPPID = 1400000000
# Distinct salt so the sandbox key can never be replayed as any other HMAC Django derives.
_KEY_DERIVATION_SALT = "muteadmin.sandbox.credentials.secret_key"


@dataclass(frozen=True)
class SandboxCredentials:
    """An SDKAppID, the secret key its UserSigs are signed with, and its admin identifier."""

    sdkappid: int
    secret_key: str = field(repr=False)
    identifier: str


def sandbox_credentials(
    *, sdkappid: int = SANDBOX_SDKAPPID, identifier: str | None = None
) -> SandboxCredentials:
    """A sandbox app: by default the one used when no Tencent SDKAppID is configured.

    Each SDKAppID gets its own key, so a UserSig signed for one sandbox app is refused by
    another, as Tencent refuses it. `identifier` defaults to TIM_ADMIN_IDENTIFIER.
    """
    # Derived rather than stored: the same in every process sharing SECRET_KEY, never equal to it.
    secret_key = salted_hmac(
        _KEY_DERIVATION_SALT, _key_value(sdkappid), secret=settings.SECRET_KEY, algorithm="sha256"
    ).hexdigest()
    return SandboxCredentials(
        sdkappid=sdkappid,
        secret_key=secret_key,
        identifier=identifier if identifier is not None else settings.TIM_ADMIN_IDENTIFIER,
    )


def _key_value(sdkappid: int) -> str:
    # The first sandbox app keeps the key it had before there were several.
    return "sandbox" if sdkappid == SANDBOX_SDKAPPID else f"sandbox:{sdkappid}"


def emulator_expected_credentials() -> SandboxCredentials:
    """The app the HTTP emulator checks UserSigs against: TIM_* if set, else the sandbox's."""
    if settings.TIM_SDKAPPID is None:
        return sandbox_credentials()
    if not settings.TIM_SECRET_KEY:
        raise ImproperlyConfigured("TIM_SECRET_KEY must be set when TIM_SDKAPPID is set.")
    return SandboxCredentials(
        sdkappid=int(settings.TIM_SDKAPPID),
        secret_key=settings.TIM_SECRET_KEY,
        identifier=settings.TIM_ADMIN_IDENTIFIER,
    )
