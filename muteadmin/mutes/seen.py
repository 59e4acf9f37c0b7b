"""What a moderator's page showed of an account's mutes, and whether Tencent still agrees with it.

A mute runs down by itself, so a state seen `elapsed` seconds ago is expected to read that much
less now (a permanent mute and no mute stay as they were). Anything further off means someone
changed it since, here or outside muteadmin.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from muteadmin.tencent.nospeaking import PERMANENT, MuteStatus

KINDS = ("c2c", "group")
# What moved, in words, by the kinds that moved.
MOVED = {
    ("c2c",): _("The C2C mute changed since it was seen."),
    ("group",): _("The group mute changed since it was seen."),
    ("c2c", "group"): _("The C2C and group mutes changed since they were seen."),
}

# How far an observed mute may be from the one expected before it counts as changed, in seconds.
# Three whole seconds, one for each rounding between two honest readings: the page writes the
# moment it saw the state to the whole second (seen_at), Tencent answers whole seconds left, and
# Tencent reads its clock somewhere inside a call while this server stamps the answer on arrival.
# A real change by someone else moves a mute by minutes; a re-set of the same length within three
# seconds of the page being drawn is the only change this lets through.
TOLERANCE_SECONDS = 3


@dataclass(frozen=True)
class SeenMutes:
    """Each mute's seconds left as the moderator's page showed them, and when they were read."""

    c2c_seconds: int
    group_seconds: int
    seen_at: datetime

    def seconds(self, kind: str) -> int:
        return getattr(self, f"{kind}_seconds")


class StaleMuteState(Exception):
    """Tencent's mutes differ from what the moderator saw by more than the time since: nothing sent.

    `status` is the state found by the query made before the change; `kinds` the mutes that moved.
    """

    def __init__(self, *, status: MuteStatus, seen: SeenMutes, kinds: tuple[str, ...]) -> None:
        self.status = status
        self.seen = seen
        self.kinds = kinds
        super().__init__(*kinds)

    def __str__(self) -> str:
        """What moved, as a sentence in the active language."""
        return str(MOVED.get(self.kinds, MOVED[KINDS]))


def run_down(seconds: int, *, elapsed: float) -> int:
    """A mute's seconds left `elapsed` seconds later: permanent and none stay as they are."""
    if seconds in (0, PERMANENT):
        return seconds
    return max(seconds - int(elapsed), 0)


def kinds_changed(*, seen: SeenMutes, status: MuteStatus) -> tuple[str, ...]:
    """The kinds whose mute in `status` is not the one `seen` has run down to since."""
    elapsed = max((status.observed_at - seen.seen_at).total_seconds(), 0.0)
    changed = []
    for kind in KINDS:
        observed = getattr(status, f"{kind}_seconds")
        expected = run_down(seen.seconds(kind), elapsed=elapsed)
        if not mutes_agree(observed=observed, expected=expected):
            changed.append(kind)
    return tuple(changed)


def mutes_agree(*, observed: int, expected: int, slack: float = 0.0) -> bool:
    """Whether `observed` is `expected` within the tolerance (and `slack` more seconds)."""
    if PERMANENT in (observed, expected):
        return observed == expected
    return abs(observed - expected) <= TOLERANCE_SECONDS + slack
