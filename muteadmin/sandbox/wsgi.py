"""The emulator as a WSGI application of its own: its URLconf, not the dashboard's middleware."""

from collections.abc import Callable, Iterable
from typing import Any

from django.core import signals
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse, HttpResponseNotFound
from django.urls import Resolver404, resolve

URLCONF = "muteadmin.sandbox.urls"

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def emulator_application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """Serve one request through the emulator's URLconf.

    A hang-up (EmulatorHangUp, a ConnectionAbortedError) propagates to the server, which drops
    the connection without an answer: wsgiref and gunicorn both treat it as a vanished client.
    """
    signals.request_started.send(sender=None, environ=environ)
    try:
        response = _response(WSGIRequest(environ))
    finally:
        # Closes database connections past their age, as Django's own handler does.
        signals.request_finished.send(sender=None)
    start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
    return [response.content]


def _response(request: WSGIRequest) -> HttpResponse:
    try:
        match = resolve(request.path_info, urlconf=URLCONF)
    except Resolver404:
        return HttpResponseNotFound()
    return match.func(request, *match.args, **match.kwargs)
