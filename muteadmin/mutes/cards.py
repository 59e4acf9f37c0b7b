"""The account page's two status cards: how long each mute runs, and who set it."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from muteadmin.mutes.confirmation import ago_in_words
from muteadmin.mutes.lengths import KIND_LABELS, KINDS
from muteadmin.mutes.setters import MuteSetter
from muteadmin.reconcile.selectors import DriftMark
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
    # The reconcile's latest finding on this mute since the last change here: it was changed
    # outside muteadmin, noticed then (audit row `drift_entry_id`).
    drift_noticed_at: datetime | None = None
    drift_entry_id: int | None = None

    @property
    def permanent(self) -> bool:
        return self.seconds == PERMANENT

    @property
    def muted(self) -> bool:
        return self.seconds > 0


def mute_cards(
    status: MuteStatus,
    setters: Mapping[str, MuteSetter | None] | None = None,
    drift: DriftMark | None = None,
) -> list[MuteCard]:
    """The C2C and group cards for a status Tencent returned, with who set each mute and the
    reconcile's latest drift on each (`drift`, of both kinds)."""
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
                drift_noticed_at=drift.noticed_at if drift and kind in drift.kinds else None,
                drift_entry_id=drift.entry_id if drift and kind in drift.kinds else None,
            )
        )
    return cards
