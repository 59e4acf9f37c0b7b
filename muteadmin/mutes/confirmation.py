"""The confirmation step of a change on the account page: what will happen, a sentence per mute.

Lifting or shortening a mute someone else set (or one set outside muteadmin), and every
permanent mute, is applied only once the moderator has read these sentences and confirmed.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from muteadmin.core.durations import duration
from muteadmin.mutes.seen import KINDS
from muteadmin.mutes.setters import MuteSetter
from muteadmin.tencent.nospeaking import PERMANENT

_MUTE_NAMES = {"c2c": "C2C mute", "group": "group mute"}
_MESSAGE_NAMES = {"c2c": "one-to-one (C2C) messages", "group": "group messages"}
_AGO_UNITS = (("d", 86400), ("h", 3600), ("min", 60))


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
        was = _left(seen[kind]) if seen[kind] else "not muted"
        if seconds[kind]:
            now_clause = f"{_left(seconds[kind])}, {setter_in_words(setters.get(kind), now=now)}"
        elif (lifter := lifters.get(kind)) is not None:
            now_clause = f"not muted, lifted by {_by(lifter, now=now)}"
        else:
            now_clause = "not muted: it ran out or was lifted outside muteadmin"
        name = _MUTE_NAMES[kind]
        sentences.append(f"{name[0].upper()}{name[1:]}: you saw {was}; now {now_clause}.")
    return tuple(sentences)


def setter_in_words(setter: MuteSetter | None, *, now: datetime) -> str:
    """ "set by mod1 3 h ago: 'threats in DMs'", or "set outside muteadmin"."""
    if setter is None:
        return "set outside muteadmin"
    return f"set by {_by(setter, now=now)}"


def _by(setter: MuteSetter, *, now: datetime) -> str:
    return f"{setter.operator} {ago_in_words(setter.at, now=now)}: '{setter.reason}'"


def ago_in_words(moment: datetime, *, now: datetime) -> str:
    """How long before `now` a moment was, in its largest unit: "3 h ago", "just now"."""
    seconds = int((now - moment).total_seconds())
    for name, size in _AGO_UNITS:
        if seconds >= size:
            return f"{seconds // size} {name} ago"
    return "just now"


def _sentence(account: str, kind: str, *, wanted: int, current: int, origin: str) -> str:
    mute = f"{account}'s {_MUTE_NAMES[kind]}"
    now_clause = f"now {_left(current)}, {origin}" if current else "now not muted"
    if wanted == 0:
        if not current:
            return f"{account}'s {_MESSAGE_NAMES[kind]} are not muted: nothing is sent for them."
        return f"Lift {mute}, {origin}."
    if wanted == PERMANENT:
        return f"Mute {account}'s {_MESSAGE_NAMES[kind]} permanently ({now_clause})."
    if current and (current == PERMANENT or wanted < current):
        return f"Shorten {mute} to {duration(wanted)} ({now_clause})."
    return f"Set {mute} to {duration(wanted)} ({now_clause})."


def _left(seconds: int) -> str:
    return "permanent" if seconds == PERMANENT else f"{duration(seconds)} left"
