"""Tells every page which upstream it talks to, so the sandbox banner is never missed."""

from django.http import HttpRequest

from muteadmin.upstream.clients import tim_sandbox_active


def upstream(request: HttpRequest) -> dict:
    return {"sandbox_active": tim_sandbox_active()}
