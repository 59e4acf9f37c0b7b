"""Which app a page works on: `?app=<name>` in its URL, else the default app.

With one app configured nothing changes: URLs carry no app and pages show none. With several,
the navigation names the current app and links to the same page in each of the others.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.encoding import escape_uri_path

from muteadmin.upstream.registry import TimApp, tim_app, tim_apps

APP_PARAMETER = "app"
UNKNOWN_APP_TEMPLATE = "upstream/unknown_app.html"
# Positions in a list that another app's list does not share.
_CURSOR_PARAMETERS = frozenset({"before", "after"})


class UnknownApp(Exception):
    """`?app=` names no configured app; the message lists the ones that are."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"There is no Chat app named {name!r} here. Configured apps: {apps_named()}."
        )


def apps_named() -> str:
    """The configured apps' names, comma-separated, for a message."""
    return ", ".join(tim_apps())


def several_apps() -> bool:
    """Whether more than one app is configured, so pages name the app they work on."""
    return len(tim_apps()) > 1


def app_requested(request: HttpRequest) -> TimApp:
    """The app `?app=` names, or the default app without one; UnknownApp for another name."""
    name = request.GET.get(APP_PARAMETER, "").strip()
    if not name:
        return tim_app()
    try:
        return tim_app(name)
    except KeyError:
        raise UnknownApp(name) from None


def app_query(app: str | None) -> str:
    """`?app=<name>` to add to an account URL, or "" when it would name the only app."""
    if app is None or not several_apps():
        return ""
    return f"?{urlencode({APP_PARAMETER: app})}"


@dataclass(frozen=True)
class AppLink:
    """The page the moderator is on, in one app."""

    name: str
    label: str
    url: str
    current: bool


def app_links(request: HttpRequest, *, current: str) -> list[AppLink]:
    """This page in each configured app: the same query string with another `app`.

    The path is quoted again as it came (request.path is decoded), so an account page's link
    keeps the account's encoded ID rather than a `/` or `?` the ID holds.
    """
    kept = [
        (name, value)
        for name, values in request.GET.lists()
        if name != APP_PARAMETER and name not in _CURSOR_PARAMETERS
        for value in values
    ]
    return [
        AppLink(
            name=app.name,
            label=app.label,
            url=f"{escape_uri_path(request.path)}?{urlencode([*kept, (APP_PARAMETER, app.name)])}",
            current=app.name == current,
        )
        for app in tim_apps().values()
    ]


class AppRequestedMixin:
    """For a view: reads the app a page works on (`?app=`, else the default app) into `self.app`.

    A name no app has gets a page saying so and naming the configured apps, not a 500.
    """

    app: TimApp

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            self.app = app_requested(request)
        except UnknownApp as exc:
            return render(request, UNKNOWN_APP_TEMPLATE, {"message": str(exc)}, status=404)
        return super().dispatch(request, *args, **kwargs)
