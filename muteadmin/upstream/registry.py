"""The Chat apps this dashboard manages, from TIM_APPS or the single-app TIM_* settings.

Teams often run more than one app (production and staging, or a China app and an international
one, since an SDKAppID is bound to its region). Each app has a short name that audit rows, report
rows and bulk jobs record. The built-in sandbox is an app too: the single-app settings without a
TIM_SDKAPPID define a sandbox app named `default`, and a TIM_APPS entry may say `"sandbox": true`.
"""

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from muteadmin.tencent.accounts import InvalidAccount, validate_account
from muteadmin.tencent.regions import REGIONS, region_base_url

DEFAULT_APP = "default"
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
# The sandbox's apps take Tencent's sample SDKAppID and the ones after it, one per app.
SANDBOX_SDKAPPID = 1400000000
_ENTRY_FIELDS = frozenset(
    {
        "name",
        "label",
        "sandbox",
        "sdkappid",
        "secret_key",
        "admin_identifier",
        "region",
        "base_url",
        "rate_limit",
    }
)


class TimAppsError(ImproperlyConfigured):
    """TIM_APPS or the single-app TIM_* settings cannot be read; the message says how to fix it."""


@dataclass(frozen=True)
class TimApp:
    """One Chat app: how to reach it, and the name the dashboard records it by."""

    name: str
    label: str
    sdkappid: int
    secret_key: str = field(repr=False)
    identifier: str
    base_url: str  # empty for a sandbox app: the in-process emulator answers
    rate_limit: int
    sandbox: bool
    region: str = ""


def tim_apps() -> dict[str, TimApp]:
    """Every configured app by name, the default one (used when none is named) first."""
    return _apps_from(
        raw=settings.TIM_APPS,
        single=(
            settings.TIM_SDKAPPID,
            settings.TIM_SECRET_KEY,
            settings.TIM_ADMIN_IDENTIFIER,
            settings.TIM_REGION,
            settings.TIM_API_BASE_URL,
            settings.TIM_RATE_LIMIT,
        ),
    )


def tim_app(name: str | None = None) -> TimApp:
    """The app called `name`, or the default app; KeyError for a name not configured."""
    apps = tim_apps()
    if name is None:
        return next(iter(apps.values()))
    return apps[name]


@functools.lru_cache(maxsize=8)
def _apps_from(*, raw: str, single: tuple[Any, ...]) -> dict[str, TimApp]:
    if not raw.strip():
        return {DEFAULT_APP: _single_app(*single)}
    entries = _entries(raw)
    apps: dict[str, TimApp] = {}
    for position, entry in enumerate(entries):
        app = _entry_app(entry, position=position, default_rate=single[-1])
        if app.name in apps:
            raise TimAppsError(f"TIM_APPS names the app {app.name!r} twice; give each a new name.")
        apps[app.name] = app
    return apps


def _single_app(
    sdkappid: int | None,
    secret_key: str,
    identifier: str,
    region: str,
    base_url: str,
    rate_limit: int,
) -> TimApp:
    return _app(
        {
            "name": DEFAULT_APP,
            "sandbox": sdkappid is None,
            "sdkappid": sdkappid,
            "secret_key": secret_key,
            "admin_identifier": identifier,
            "region": region,
            "base_url": base_url,
            "rate_limit": rate_limit,
        },
        where="the TIM_* settings",
        position=0,
    )


def _entries(raw: str) -> list[dict[str, Any]]:
    text = raw.strip()
    if not text.startswith("["):
        path = Path(text)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise TimAppsError(
                f"TIM_APPS names the file {text!r}, which cannot be read ({exc.strerror}); "
                "give a JSON list or the path of a file holding one."
            ) from None
    try:
        entries = json.loads(text)
    except ValueError as exc:
        raise TimAppsError(
            f"TIM_APPS is not valid JSON ({exc.msg} at line {exc.lineno})."
        ) from None
    if not isinstance(entries, list) or not entries:
        raise TimAppsError("TIM_APPS must be a JSON list with one object per app.")
    if not all(isinstance(entry, dict) for entry in entries):
        raise TimAppsError("Each entry of TIM_APPS must be a JSON object.")
    return entries


def _entry_app(entry: dict[str, Any], *, position: int, default_rate: int) -> TimApp:
    where = f"TIM_APPS entry {position + 1}"
    unknown = sorted(set(entry) - _ENTRY_FIELDS)
    if unknown:
        raise TimAppsError(
            f"{where} has unknown fields: {', '.join(unknown)}; "
            f"expected some of: {', '.join(sorted(_ENTRY_FIELDS))}."
        )
    entry = {"admin_identifier": "administrator", "rate_limit": default_rate, **entry}
    return _app(entry, where=where, position=position)


def _app(entry: dict[str, Any], *, where: str, position: int) -> TimApp:
    name = entry.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise TimAppsError(
            f"{where}: the name {name!r} must be 1 to 32 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit."
        )
    sandbox = entry.get("sandbox", False) is True
    rate_limit = entry.get("rate_limit")
    if type(rate_limit) is not int or rate_limit < 1:
        raise TimAppsError(f"{where}: rate_limit must be a whole number of calls per second.")
    identifier = entry.get("admin_identifier")
    try:
        validate_account(identifier)
    except InvalidAccount:
        raise TimAppsError(
            f"{where}: the admin identifier must be an App admin UserID of 1 to 32 characters."
        ) from None
    common = {
        "name": name,
        "label": str(entry.get("label") or name),
        "identifier": identifier,
        "rate_limit": rate_limit,
    }
    if sandbox:
        sdkappid = entry.get("sdkappid") or SANDBOX_SDKAPPID + position
        return TimApp(
            **common, sdkappid=sdkappid, secret_key="", base_url="", sandbox=True, region=""
        )
    return _tencent_app(entry, where=where, common=common)


def _tencent_app(entry: dict[str, Any], *, where: str, common: dict[str, Any]) -> TimApp:
    sdkappid = entry.get("sdkappid")
    if type(sdkappid) is not int or sdkappid <= 0:
        raise TimAppsError(f"{where}: sdkappid must be the app's numeric SDKAppID.")
    secret_key = entry.get("secret_key")
    if not isinstance(secret_key, str) or not secret_key:
        raise TimAppsError(
            f"{where}: secret_key is empty; copy the app's key from the Chat console."
        )
    region = entry.get("region") or "china"
    if region not in REGIONS:
        raise TimAppsError(
            f"{where}: {region!r} is not a Tencent Cloud Chat region; use one of: "
            f"{', '.join(REGIONS)}."
        )
    base_url = (entry.get("base_url") or region_base_url(region)).rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TimAppsError(f"{where}: base_url {base_url!r} is not an http(s) URL.")
    return TimApp(
        **common,
        sdkappid=sdkappid,
        secret_key=secret_key,
        base_url=base_url,
        sandbox=False,
        region=region,
    )
