"""The pages shown when a request goes wrong, in the base layout; the 500 page needs no database."""

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import requires_csrf_token

BAD_REQUEST_TEMPLATE = "400.html"
PERMISSION_DENIED_TEMPLATE = "403.html"
NOT_FOUND_TEMPLATE = "404.html"
SERVER_ERROR_TEMPLATE = "500.html"


def back_url(request: HttpRequest) -> str | None:
    """The page the visitor came from, when it is one of ours and not this very page."""
    referer = request.META.get("HTTP_REFERER", "")
    if not referer:
        return None
    try:
        here, host = request.build_absolute_uri(), request.get_host()
    except DisallowedHost:
        # The 400 page for a request to a host this site does not serve.
        return None
    if referer == here or not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={host}, require_https=request.is_secure()
    ):
        return None
    return referer


def _page(request: HttpRequest, template: str, status: int, **context: object) -> HttpResponse:
    context |= {"request_path": request.path, "back_url": back_url(request)}
    return render(request, template, context, status=status)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """400: a request no page can read (too many fields, a forged host, a damaged upload)."""
    return _page(request, BAD_REQUEST_TEMPLATE, 400)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """403: a signed-in user whose role does not open this page (anyone else is sent to sign in)."""
    reason = str(exception) if exception.args else ""
    return _page(request, PERMISSION_DENIED_TEMPLATE, 403, reason=reason)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: no page at this address, or the job or row it names does not exist."""
    return _page(request, NOT_FOUND_TEMPLATE, 404)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """500: drawn from a plain context, so no session, user or query is needed.

    A fault is often the database itself; this page must show even then.
    """
    template = loader.get_template(SERVER_ERROR_TEMPLATE)
    return HttpResponseServerError(template.render({"request_path": request.path}))
