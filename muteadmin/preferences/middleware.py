"""Pages in the signed-in user's own language and time zone.

After LocaleMiddleware (which reads the language cookie, then Accept-Language, then
LANGUAGE_CODE) and AuthenticationMiddleware: a language saved on the user's profile beats both.
"""

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from muteadmin.preferences.services import Chosen, language_codes, preference_get
from muteadmin.preferences.zones import is_zone


class PreferencesMiddleware:
    """Activates the user's saved language and time zone for the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        chosen = preference_get(user=user) if user and user.is_authenticated else Chosen()
        request.preferences = chosen
        if chosen.language in language_codes():
            translation.activate(chosen.language)
            request.LANGUAGE_CODE = translation.get_language()
        name = chosen.time_zone if is_zone(chosen.time_zone) else settings.TIME_ZONE
        timezone.activate(ZoneInfo(name))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
