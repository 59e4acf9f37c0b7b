"""The preferences page's form, the navigation's language switch and the time zone offer."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from muteadmin.preferences.zones import is_zone


def _language_choices() -> list[tuple[str, str]]:
    # Each language in its own words, so a reader finds theirs whatever the page is drawn in.
    own = {"en": "English", "zh-hans": "简体中文"}
    return [(code, own.get(code, name)) for code, name in settings.LANGUAGES]


class ZoneField(forms.CharField):
    """An IANA time zone name zoneinfo knows, such as Asia/Shanghai."""

    default_error_messages = {
        "zone": _("Enter a time zone name such as Asia/Shanghai or America/Los_Angeles."),
    }

    def validate(self, value: str) -> None:
        super().validate(value)
        if value and not is_zone(value):
            raise forms.ValidationError(self.error_messages["zone"], code="zone")


class PreferencesForm(forms.Form):
    """Language, time zone and CSV byte-order mark, as the preferences page edits them."""

    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=lambda: [("", _("The browser's language")), *_language_choices()],
    )
    time_zone = ZoneField(
        label=_("Time zone"),
        max_length=64,
        help_text=_("Every time is shown in this zone, e.g. Asia/Shanghai or Europe/London."),
    )
    csv_bom = forms.BooleanField(
        label=_("Add a byte-order mark to CSV downloads"),
        required=False,
        help_text=_("Lets Excel on Windows read Chinese and other non-Latin text in CSV files."),
    )


class LanguageForm(forms.Form):
    """The navigation's switch: one language, and where to go back to."""

    language = forms.ChoiceField(choices=_language_choices)
    next = forms.CharField(required=False, max_length=2000)


class ZoneOfferForm(forms.Form):
    """The first-sign-in offer: the zone the browser reports (or one typed)."""

    time_zone = ZoneField(max_length=64, label=_("Time zone"))
    next = forms.CharField(required=False, max_length=2000)
