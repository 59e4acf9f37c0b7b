"""Each user's own settings: the language and time zone pages are drawn in, CSV downloads."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Preference(models.Model):
    """One user's choices; a blank language or time zone means "not chosen" (see middleware)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference"
    )
    # Blank: the browser's Accept-Language, else LANGUAGE_CODE.
    language = models.CharField(_("language"), max_length=16, blank=True)
    # Blank: not chosen yet (the browser's zone is offered), TIME_ZONE meanwhile.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    csv_bom = models.BooleanField(
        _("byte-order mark in CSV downloads"),
        default=False,
        help_text=_("Lets Excel on Windows read Chinese and other non-Latin text in CSV files."),
    )

    def __str__(self) -> str:
        return str(self.user)
