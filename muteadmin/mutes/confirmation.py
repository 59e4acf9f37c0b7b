"""The confirmation step of a change on the account page: what will happen, a sentence per mute.

Lifting or shortening a mute someone else set (or one set outside muteadmin), and every
permanent mute, is applied only once the moderator has read these sentences and confirmed.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from muteadmin.core.durations import duration
from muteadmin.mutes.seen import KINDS
from muteadmin.mutes.setters import MuteSetter
from muteadmin.tencent.nospeaking import PERMANENT

_MUTE_NAMES = {"c2c": gettext_lazy("C2C mute"), "group": gettext_lazy("group mute")}
_MUTE_TITLES = {"c2c": gettext_lazy("C2C mute"), "group": gettext_lazy("Group mute")}
_MESSAGE_NAMES = {
    "c2c": gettext_lazy("one-to-one (C2C) messages"),
    "group": gettext_lazy("group messages"),
}
_AGO_UNITS = (
    (pgettext_lazy("duration unit", "d"), 86400),
    (pgettext_lazy("duration unit", "h"), 3600),
    (pgettext_lazy("duration unit", "min"), 60),
)


@dataclass(frozen=True)
class Confirmation:
    """The sentences for a change, and whether it waits for the moderator to confirm them."""

    sentences: tuple[str, ...]
    required: bool


def change_confirmation(
    *,
    account: str,
    operator: str,
    requested: Mapping[str, int | None],
    seconds: Mapping[str, int],
    setters: Mapping[str, MuteSetter | None],
    now: datetime,
) -> Confirmation:
    """What a change asking `requested` of mutes with `seconds` left (set by `setters`) will do.

    `operator` is the moderator making it: shortening or lifting their own mute needs no
    confirmation, anyone else's does, and so does every permanent mute.
    """
    sentences = []
    required = False
    for kind in KINDS:
        wanted = requested.get(kind)
        if wanted is None:
            continue
        current = seconds[kind]
        setter = setters.get(kind)
        origin = setter_in_words(setter, now=now) if current else ""
        sentences.append(_sentence(account, kind, wanted=wanted, current=current, origin=origin))
        someone_else = setter is None or setter.operator != operator
        shortens = current > 0 and (current == PERMANENT or wanted < current)
        if wanted == PERMANENT or (shortens and someone_else):
            required = True
    return Confirmation(sentences=tuple(sentences), required=required)


def stale_sentences(
    *,
    kinds: tuple[str, ...],
    seen: Mapping[str, int],
    seconds: Mapping[str, int],
    setters: Mapping[str, MuteSetter | None],
    lifters: Mapping[str, MuteSetter | None],
    now: datetime,
) -> tuple[str, ...]:
    """A sentence per mute that moved since the page was drawn: what was seen, what is, and who."""
    sentences = []
    for kind in kinds:
        was = _left(seen[kind]) if seen[kind] else _("not muted")
        if seconds[kind]:
            now_clause = _("%(left)s, %(origin)s") % {
                "left": _left(seconds[kind]),
                "origin": setter_in_words(setters.get(kind), now=now),
            }
        elif (lifter := lifters.get(kind)) is not None:
            now_clause = _("not muted, lifted by %(by)s") % {"by": _by(lifter, now=now)}
        else:
            now_clause = _("not muted: it ran out or was lifted outside muteadmin")
        sentences.append(
            _("%(mute)s: you saw %(was)s; now %(now)s.")
            % {"mute": _MUTE_TITLES[kind], "was": was, "now": now_clause}
        )
    return tuple(sentences)


def setter_in_words(setter: MuteSetter | None, *, now: datetime) -> str:
    """ "set by mod1 3 h ago: 'threats in DMs'", or "set outside muteadmin"."""
    if setter is None:
        return _("set outside muteadmin")
    return _("set by %(by)s") % {"by": _by(setter, now=now)}


def _by(setter: MuteSetter, *, now: datetime) -> str:
    return _("%(operator)s %(ago)s: '%(reason)s'") % {
        "operator": setter.operator_label,
        "ago": ago_in_words(setter.at, now=now),
        "reason": setter.reason,
    }


def ago_in_words(moment: datetime, *, now: datetime) -> str:
    """How long before `now` a moment was, in its largest unit: "3 h ago", "just now"."""
    seconds = int((now - moment).total_seconds())
    for name, size in _AGO_UNITS:
        if seconds >= size:
            return _("%(count)d %(unit)s ago") % {"count": seconds // size, "unit": name}
    return _("just now")


def _sentence(account: str, kind: str, *, wanted: int, current: int, origin: str) -> str:
    words = {
        "account": account,
        "mute": _MUTE_NAMES[kind],
        "messages": _MESSAGE_NAMES[kind],
        "origin": origin,
        "length": duration(wanted),
    }
    if current:
        words["now"] = _("now %(left)s, %(origin)s") % {"left": _left(current), "origin": origin}
    else:
        words["now"] = _("now not muted")
    if wanted == 0:
        if not current:
            return _("%(account)s's %(messages)s are not muted: nothing is sent for them.") % words
        return _("Lift %(account)s's %(mute)s, %(origin)s.") % words
    if wanted == PERMANENT:
        return _("Mute %(account)s's %(messages)s permanently (%(now)s).") % words
    if current and (current == PERMANENT or wanted < current):
        return _("Shorten %(account)s's %(mute)s to %(length)s (%(now)s).") % words
    return _("Set %(account)s's %(mute)s to %(length)s (%(now)s).") % words


def _left(seconds: int) -> str:
    if seconds == PERMANENT:
        return _("permanent")
    return _("%(duration)s left") % {"duration": duration(seconds)}
