"""Pages of the sign-in app beyond allauth's own."""

import logging
from collections.abc import Callable
from functools import wraps
from http import HTTPStatus
from typing import Any

import requests
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views.generic import RedirectView, TemplateView

from muteadmin.signin.sso import PROVIDER_ID, sso_configured, sso_name

logger = logging.getLogger(__name__)


@method_decorator(login_not_required, name="dispatch")
class ToSignIn(RedirectView):
    """Another address for signing in (the admin's, allauth's own): sends to `/login/`, the one
    door, keeping `?next=`."""

    pattern_name = "login"
    query_string = True


@method_decorator(login_not_required, name="dispatch")
class PasswordResetNotice(TemplateView):
    """No password reset by e-mail: an administrator sets a new password."""

    template_name = "signin/password_reset.html"


def sso_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A single sign-on view: not found while no provider is configured; while one is, a
    provider that cannot be reached (its discovery document, its token endpoint) is said in a
    sentence rather than a fault."""

    @login_not_required
    @wraps(view)
    def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not sso_configured() or kwargs.get("provider_id", PROVIDER_ID) != PROVIDER_ID:
            raise Http404("Single sign-on is not configured.")
        try:
            return view(request, *args, **kwargs)
        except requests.RequestException as exc:
            logger.warning("The single sign-on provider could not be reached: %s", exc)
            return render(
                request,
                "signin/sso_refused.html",
                {
                    "sentence": (
                        f"{sso_name()} could not be reached to sign you in. Try again in a "
                        "minute, or sign in with your username and password."
                    ),
                    "provider_name": sso_name(),
                },
                status=HTTPStatus.BAD_GATEWAY,
            )

    return gated
