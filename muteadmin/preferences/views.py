"""The preferences page, the navigation's language switch and the time zone offer's answer."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST

from muteadmin.core.errors import bad_request
from muteadmin.preferences.forms import LanguageForm, PreferencesForm, ZoneOfferForm
from muteadmin.preferences.services import preference_get, preference_set


def _back(request: HttpRequest, typed: str) -> HttpResponseRedirect:
    """A redirect to `typed` when it is a path on this site, else to the start page."""
    if typed and url_has_allowed_host_and_scheme(
        typed, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(typed)
    return redirect("mutes:lookup")


def _remember_language(response: HttpResponse, language: str) -> None:
    """Keep the language in the cookie LocaleMiddleware reads, for pages before sign-in."""
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)


class PreferencesView(View):
    """Shows and saves the signed-in user's language, time zone and CSV choice."""

    def get(self, request: HttpRequest) -> HttpResponse:
        chosen = preference_get(user=request.user)
        initial = {
            "language": chosen.language,
            "time_zone": chosen.time_zone or settings.TIME_ZONE,
            "csv_bom": chosen.csv_bom,
        }
        return self.page(PreferencesForm(initial=initial))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PreferencesForm(data=request.POST)
        if not form.is_valid():
            return self.page(form, status=400)
        preference_set(user=request.user, **form.cleaned_data)
        language = form.cleaned_data["language"]
        # The message is in the language just chosen.
        with translation.override(language or translation.get_language()):
            messages.success(request, _("Your preferences are saved."))
        response = redirect("preferences:edit")
        _remember_language(response, language)
        return response

    def page(self, form: PreferencesForm, *, status: int = 200) -> HttpResponse:
        return render(self.request, "preferences/edit.html", {"form": form}, status=status)


@method_decorator(login_not_required, name="dispatch")
class LanguageView(View):
    """Switches the language: saved on the profile when signed in, and in a cookie."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        form = LanguageForm(data=request.POST)
        if not form.is_valid():
            return bad_request(request, ValueError("unknown language"))
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            preference_set(user=request.user, language=language)
        response = _back(request, form.cleaned_data["next"])
        _remember_language(response, language)
        return response


@require_POST
def zone_offer(request: HttpRequest) -> HttpResponse:
    """Saves the time zone offered on first sign-in (the browser's, or one typed)."""
    form = ZoneOfferForm(data=request.POST)
    if not form.is_valid():
        messages.error(request, _("That is not a time zone; choose one on the preferences page."))
        return redirect(reverse("preferences:edit"))
    preference_set(user=request.user, time_zone=form.cleaned_data["time_zone"])
    messages.success(
        request,
        _("Times are now shown in %(zone)s.") % {"zone": form.cleaned_data["time_zone"]},
    )
    return _back(request, form.cleaned_data["next"])
