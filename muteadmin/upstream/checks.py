"""System checks for the Tencent settings: half-done configuration is caught at start-up."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

from muteadmin.tencent.regions import REGIONS
from muteadmin.upstream.registry import TimAppsError, tim_apps


@checks.register(checks.Tags.compatibility, deploy=False)
def check_tencent_settings(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if settings.TIM_APPS.strip():
        return _check_tim_apps()
    return _check_single_app()


def _check_tim_apps() -> list[checks.CheckMessage]:
    errors = []
    if settings.TIM_SDKAPPID is not None:
        errors.append(
            checks.Error(
                "Both TIM_APPS and TIM_SDKAPPID are set.",
                hint="Describe every app in TIM_APPS and unset TIM_SDKAPPID and TIM_SECRET_KEY.",
                id="muteadmin.E008",
            )
        )
    try:
        apps = tim_apps()
    except TimAppsError as exc:
        return [*errors, checks.Error(str(exc), id="muteadmin.E007")]
    for app in apps.values():
        if urlsplit(app.base_url).scheme == "http" and not settings.DEBUG:
            errors.append(
                checks.Error(
                    f"The app {app.name!r} in TIM_APPS uses plain http in production, "
                    "so the UserSig would travel unencrypted.",
                    hint="Use an https:// base_url, or leave it out to use the region's domain.",
                    id="muteadmin.E006",
                )
            )
    return errors


def _check_single_app() -> list[checks.CheckMessage]:
    errors = []
    sdkappid = settings.TIM_SDKAPPID
    if sdkappid is not None and not settings.TIM_SECRET_KEY:
        errors.append(
            checks.Error(
                "TIM_SDKAPPID is set but TIM_SECRET_KEY is empty.",
                hint="Copy the key from the Tencent Cloud Chat console into TIM_SECRET_KEY, "
                "or unset TIM_SDKAPPID to use the built-in sandbox.",
                id="muteadmin.E001",
            )
        )
    if sdkappid is None and settings.TIM_SECRET_KEY:
        errors.append(
            checks.Warning(
                "TIM_SECRET_KEY is set but TIM_SDKAPPID is empty, so the sandbox is used.",
                hint="Set TIM_SDKAPPID to your app's SDKAppID to call Tencent.",
                id="muteadmin.W002",
            )
        )
    if settings.TIM_REGION not in REGIONS:
        errors.append(
            checks.Error(
                f"TIM_REGION {settings.TIM_REGION!r} is not a Tencent Cloud Chat region.",
                hint=f"Use one of: {', '.join(REGIONS)}.",
                id="muteadmin.E003",
            )
        )
    if settings.TIM_ADMIN_IDENTIFIER == "" or len(settings.TIM_ADMIN_IDENTIFIER.encode()) > 32:
        errors.append(
            checks.Error(
                "TIM_ADMIN_IDENTIFIER must be an App admin UserID of 1 to 32 bytes.",
                hint="Leave it unset to use 'administrator', or name an admin from the console.",
                id="muteadmin.E004",
            )
        )
    base_url = settings.TIM_API_BASE_URL
    if base_url:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors.append(
                checks.Error(
                    f"TIM_API_BASE_URL {base_url!r} is not an http(s) URL.",
                    hint="Give a scheme and host, such as https://adminapisgp.im.qcloud.com.",
                    id="muteadmin.E005",
                )
            )
        elif parts.scheme == "http" and not settings.DEBUG:
            errors.append(
                checks.Error(
                    "TIM_API_BASE_URL uses plain http in production, "
                    "so the UserSig would travel unencrypted.",
                    hint="Use an https:// URL, or unset TIM_API_BASE_URL "
                    "to use the region's domain.",
                    id="muteadmin.E006",
                )
            )
    return errors
