"""Mute lengths in words: "2 d 3 h", "muted, 5 min left", "permanent"."""

from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext as _

from muteadmin.tencent.nospeaking import PERMANENT

_UNITS = (
    (pgettext_lazy("duration unit", "d"), 86400),
    (pgettext_lazy("duration unit", "h"), 3600),
    (pgettext_lazy("duration unit", "min"), 60),
    (pgettext_lazy("duration unit", "s"), 1),
)


def duration(seconds: int) -> str:
    """Seconds as "2 d 3 h 4 min 5 s", largest unit first, zero units left out."""
    seconds = int(seconds)
    if seconds <= 0:
        return f"0 {_UNITS[-1][0]}"
    parts = []
    for name, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {name}")
    return " ".join(parts)


def describe_seconds(seconds: int) -> str:
    """A mute's remaining seconds as a moderator reads them."""
    if seconds == PERMANENT:
        return _("permanently muted")
    if seconds <= 0:
        return _("not muted")
    return _("muted, %(duration)s left") % {"duration": duration(seconds)}


def requested_in_words(seconds: int | None) -> str:
    """What a change asked for one mute: left alone, lifted, a length, or permanent."""
    if seconds is None:
        return _("left as it was")
    if seconds == PERMANENT:
        return _("permanent")
    if seconds == 0:
        return _("lifted")
    return duration(seconds)


def remaining_in_words(seconds: int) -> str:
    """What was left of one mute when seen: "permanent", "not muted" or a length."""
    if seconds == PERMANENT:
        return gettext("permanent")
    if seconds <= 0:
        return gettext("not muted")
    return duration(seconds)
