"""The account page's two status cards: how long each mute runs, and who set it."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from muteadmin.mutes.confirmation import ago_in_words
from muteadmin.mutes.lengths import KIND_LABELS, KINDS
from muteadmin.mutes.setters import MuteSetter
from muteadmin.tencent.nospeaking import PERMANENT, MuteStatus


@dataclass(frozen=True)
class MuteCard:
    """One of the two mutes as the account page shows it."""

    kind: str
    label: str
    seconds: int
    ends_at: datetime | None
    # Who set the mute shown (muted cards only): the change, or None when set outside muteadmin.
    setter: MuteSetter | None = None
    set_outside: bool = False
    set_ago: str = ""

    @property
    def permanent(self) -> bool:
        return self.seconds == PERMANENT

    @property
    def muted(self) -> bool:
        return self.seconds > 0


def mute_cards(
    status: MuteStatus, setters: Mapping[str, MuteSetter | None] | None = None
) -> list[MuteCard]:
    """The C2C and group cards for a status Tencent returned, with who set each mute."""
    setters = setters or {}
    cards = []
    for kind in KINDS:
        seconds = getattr(status, f"{kind}_seconds")
        ends_at = None
        if 0 < seconds < PERMANENT:
            ends_at = status.observed_at + timedelta(seconds=seconds)
        setter = setters.get(kind)
        cards.append(
            MuteCard(
                kind=kind,
                label=KIND_LABELS[kind],
                seconds=seconds,
                ends_at=ends_at,
                setter=setter,
                set_outside=kind in setters and setter is None,
                set_ago=ago_in_words(setter.at, now=status.observed_at) if setter else "",
            )
        )
    return cards
