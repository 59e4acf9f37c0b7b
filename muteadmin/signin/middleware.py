"""Middleware for signed-in sessions: their time limits, no caching, and two-factor enrolment."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from muteadmin.signin.enrolment import MUST_ENROL, mfa_enrolment_pending
from muteadmin.signin.sessions import session_check
from muteadmin.signin.sso import PROVIDER_ID

# Set once the user has been told why they are sent to set up two-factor sign-in.
TOLD_TO_ENROL = "muteadmin_mfa_told"


class SessionLimitsMiddleware:
    """Ends sessions idle too long or signed in too long ago, and marks every response to a
    signed-in user `Cache-Control: no-store`, so a shared browser keeps no copy after sign-out.

    Reads only the session already loaded for the request: no query of its own.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            ended = session_check(request.session)
            if ended is not None:
                logout(request)
                messages.info(request, ended.sentence())
        response = self.get_response(request)
        if request.user.is_authenticated:
            # CSV downloads and JSON included: anything a signed-in user is sent.
            add_never_cache_headers(response)
        return response


class MFAEnrolmentMiddleware:
    """Sends a user who must set up two-factor sign-in to do so before anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.user.is_authenticated
            # Only sessions flagged at sign-in pay for more than this dictionary lookup.
            and request.session.get(MUST_ENROL)
            and not self._allowed_before_enrolment(request.path)
            and mfa_enrolment_pending(request.session, request.user)
        ):
            if not request.session.get(TOLD_TO_ENROL):
                request.session[TOLD_TO_ENROL] = True
                messages.warning(
                    request,
                    _(
                        "Your role requires two-factor sign-in. "
                        "Set up an authenticator app to continue."
                    ),
                )
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

    @staticmethod
    def _allowed_before_enrolment(path: str) -> bool:
        # Setting up the second factor (and signing in again for it, with a password or the
        # single sign-on provider), and signing out.
        return path.startswith(
            (
                reverse("mfa_index"),
                reverse("account_reauthenticate"),
                reverse("openid_connect_login", kwargs={"provider_id": PROVIDER_ID}),
                reverse("logout"),
            )
        ) or path.startswith("/static/")
