"""Tells every page which upstream it talks to, so the sandbox banner is never missed.

With several apps configured it also names the app the page works on and links to the others.
"""

from django.http import HttpRequest

from muteadmin.upstream.registry import tim_app
from muteadmin.upstream.selection import UnknownApp, app_links, app_requested, several_apps


def upstream(request: HttpRequest) -> dict:
    try:
        app = app_requested(request)
    except UnknownApp:
        # The page itself says the name is unknown; the navigation shows the default app.
        app = tim_app()
    context = {"sandbox_active": app.sandbox}
    if several_apps():
        context |= {"current_app": app, "app_links": app_links(request, current=app.name)}
    return context
