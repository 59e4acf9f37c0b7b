"""Mute lengths in words: "2 d 3 h", "muted, 5 min left", "permanent"."""

from muteadmin.core.translations import gettext, pgettext
from muteadmin.core.translations import gettext as _
from muteadmin.tencent.nospeaking import PERMANENT

_UNIT_SIZES = (86400, 3600, 60, 1)


def _unit_names() -> tuple[str, ...]:
    return (
        pgettext("duration unit", "d"),
        pgettext("duration unit", "h"),
        pgettext("duration unit", "min"),
        pgettext("duration unit", "s"),
    )


def duration(seconds: int) -> str:
    """Seconds as "2 d 3 h 4 min 5 s", largest unit first, zero units left out."""
    seconds = int(seconds)
    names = _unit_names()
    if seconds <= 0:
        return f"0 {names[-1]}"
    parts = []
    for name, size in zip(names, _UNIT_SIZES, strict=True):
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
