"""The account page's recent changes as it lists them: every value put into words once, here.

The rows are drawn by the fragments engine (templates/mutes/recent_changes.jinja), which only
places and escapes these values: the page draws sixty of them on every visit.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.operators import operator_label
from muteadmin.core.durations import requested_in_words
from muteadmin.core.moments import moment_cell

_OUTCOME_LABELS = dict(AuditEntry.Outcome.choices)


@dataclass(frozen=True, slots=True)
class RecentChangeRow:
    """One change attempt, every cell as the page shows it (before escaping)."""

    time: str
    operator: str
    c2c: str
    group: str
    reason: str
    outcome: str
    outcome_label: str
    error_code: int | None


def recent_change_rows(changes: Iterable[Mapping[str, Any]]) -> list[RecentChangeRow]:
    """Rows for mute_recent_changes' changes; times in the current time zone."""
    return [
        RecentChangeRow(
            time=moment_cell(change["created_at"]),
            operator=operator_label(change["operator_username"]),
            c2c=requested_in_words(change["c2c_requested"]),
            group=requested_in_words(change["group_requested"]),
            reason=change["reason"],
            outcome=change["outcome"],
            outcome_label=_OUTCOME_LABELS.get(change["outcome"], change["outcome"]),
            error_code=change["error_code"],
        )
        for change in changes
    ]
