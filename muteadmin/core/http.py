"""What a request says about the person making it."""

from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from, for the audit log; None when the server was not told."""
    return request.META.get("REMOTE_ADDR") or None
