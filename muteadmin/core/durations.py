"""Mute lengths in words: "2 d 3 h", "muted, 5 min left", "permanent"."""

from django.utils.translation import gettext

from muteadmin.tencent.nospeaking import PERMANENT

_UNITS = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))


def duration(seconds: int) -> str:
    """Seconds as "2 d 3 h 4 min 5 s", largest unit first, zero units left out."""
    seconds = int(seconds)
    if seconds <= 0:
        return "0 s"
    parts = []
    for name, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {name}")
    return " ".join(parts)


def describe_seconds(seconds: int) -> str:
    """A mute's remaining seconds as a moderator reads them."""
    if seconds == PERMANENT:
        return "permanently muted"
    if seconds <= 0:
        return "not muted"
    return f"muted, {duration(seconds)} left"


def requested_in_words(seconds: int | None) -> str:
    """What a change asked for one mute: left alone, lifted, a length, or permanent."""
    if seconds is None:
        return "left as it was"
    if seconds == PERMANENT:
        return "permanent"
    if seconds == 0:
        return "lifted"
    return duration(seconds)


def remaining_in_words(seconds: int) -> str:
    """What was left of one mute when seen: "permanent", "not muted" or a length."""
    if seconds == PERMANENT:
        return gettext("permanent")
    if seconds <= 0:
        return gettext("not muted")
    return duration(seconds)
