"""What a table of upstream slots promises, whichever database holds it.

A slot counts against its key's limit from the moment it is granted while its request is still
pending, however long that takes (up to `pending_expiry`, for a process that died holding one),
and, once the request has gone out, for `hold` seconds from the time it was sent. Whatever one
window at the receiver looks like, the last of its calls to be granted was granted while every
earlier one of them still counted, as long as no call arrives later after its send stamp than
the time between that last grant and its own arrival: so the receiver never sees more than the
limit in a window.
"""

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Protocol

# A full window of slots all still pending: they go out within milliseconds, so look again soon.
PENDING_POLL = 0.002


@dataclass(frozen=True)
class SlotRules:
    """How long a slot counts: `hold` seconds once sent, `pending_expiry` at most while pending."""

    hold: float
    pending_expiry: float

    def wait(self, *, now: float, oldest_sent: float | None) -> float:
        """Seconds until a full window may have room: when its oldest sent slot stops counting."""
        if oldest_sent is None:
            return PENDING_POLL
        # Never negative: a slot that stopped counting a moment ago means "look again now".
        return max(oldest_sent + self.hold - now, 0.0)


@dataclass(frozen=True)
class Taken:
    """A granted slot's id (for the table's sent()), or None and how many seconds to wait."""

    slot_id: Hashable | None
    wait: float


class SlotTable(Protocol):
    rules: SlotRules

    def take(self, key: str, *, limit: int) -> Taken: ...

    def sent(self, slot_id: Any) -> None: ...

    def clear(self) -> None: ...

    def close(self) -> None: ...
