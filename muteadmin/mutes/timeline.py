"""The account page's timeline as it lists it: every value put into words once, here.

account_history_read reads the rows; this turns them into entries, runs of lookups collapsed into
one ("12 lookups by mod1, mod2"), and templates/mutes/timeline.jinja only places them.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy, ngettext

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.operators import operator_label
from muteadmin.core.durations import requested_in_words
from muteadmin.core.fragments import fragment
from muteadmin.core.moments import moment_text
from muteadmin.core.translations import gettext as _
from muteadmin.mutes.notes import NOTE_MAX_LENGTH
from muteadmin.mutes.selectors import LOOKUP_ACTION, AccountHistory

_ACTION_LABELS = dict(AuditEntry.Action.choices)
_OUTCOME_LABELS = dict(AuditEntry.Outcome.choices)
_TITLES = {
    "notice": gettext_lazy("Notice sent"),
    "note": gettext_lazy("Note"),
    "scheduled": gettext_lazy("Scheduled change"),
    "drift": gettext_lazy("Changed outside muteadmin"),
}
_KINDS = {"change": "change", "notice": "notice", "note": "note", "drift": "drift"}


@dataclass(slots=True)
class TimelineLookups:
    """A run of lookups with nothing else between them: who looked, how often, and when."""

    by: dict[str, int] = field(default_factory=dict)
    newest: Mapping[str, Any] | None = None
    oldest: Mapping[str, Any] | None = None

    def add(self, row: Mapping[str, Any]) -> None:
        name = operator_label(row["operator_username"]) or _("someone")
        self.by[name] = self.by.get(name, 0) + 1
        self.newest = self.newest or row
        self.oldest = row


@dataclass(slots=True)
class TimelineEntry:
    """One line of the timeline, every value as the page shows it (before escaping)."""

    kind: str
    time: str
    title: str
    operator: str = ""
    on_behalf_of: str = ""
    detail: str = ""
    reason: str = ""
    # Empty when the step went through; else what became of it ("Error (20001)", "Pending").
    outcome: str = ""
    # A run of lookups: "12 lookups by mod1, mod2", then each one's count, and since when.
    summary: str = ""
    counts: list[str] = field(default_factory=list)
    since: str = ""


def _when(row: Mapping[str, Any]) -> str:
    return moment_text(row["created_at"])


def _outcome(row: Mapping[str, Any]) -> str:
    if row["outcome"] == AuditEntry.Outcome.OK:
        return ""
    label = _OUTCOME_LABELS.get(row["outcome"], row["outcome"])
    if not row["error_code"]:
        return str(label)
    return _("%(outcome)s (%(code)s)") % {"outcome": label, "code": row["error_code"]}


def _title(row: Mapping[str, Any]) -> str:
    action = row["action"]
    if action == "change":
        asked = (row["c2c_requested"], row["group_requested"])
        muted = any(seconds for seconds in asked if seconds is not None)
        return _("Mute") if muted else _("Lift")
    return _TITLES.get(action) or _ACTION_LABELS.get(action, action)


def _step(row: Mapping[str, Any]) -> TimelineEntry:
    action = row["action"]
    detail = ""
    asked = row["c2c_requested"] is not None or row["group_requested"] is not None
    if action == "drift" and not asked:
        # Found by the reconcile: what it expected and what Tencent had.
        detail = row.get("error_info") or ""
    elif action in ("change", "scheduled", "drift") or action.startswith("request_"):
        detail = _("C2C: %(c2c)s; group: %(group)s") % {
            "c2c": requested_in_words(row["c2c_requested"]),
            "group": requested_in_words(row["group_requested"]),
        }
    return TimelineEntry(
        kind=_KINDS.get(action, "request"),
        time=_when(row),
        title=_title(row),
        operator=operator_label(row["operator_username"]),
        on_behalf_of=row["on_behalf_of"] or "",
        detail=detail,
        reason=row["reason"],
        outcome=_outcome(row),
    )


def timeline_entries(rows: Iterable[Mapping[str, Any]], *, steps_cut: bool) -> list[TimelineEntry]:
    """Entries for mute_timeline_read's rows (newest first), each run of lookups collapsed.

    `steps_cut`: the steps were limited, so lookups older than the oldest step read are left
    out (steps between them were not read).
    """
    rows = list(rows)
    if steps_cut:
        oldest = min((row["id"] for row in rows if row["action"] != LOOKUP_ACTION), default=0)
        rows = [row for row in rows if row["id"] > oldest or row["action"] != LOOKUP_ACTION]
    entries: list[TimelineEntry | TimelineLookups] = []
    for row in rows:
        if row["action"] != LOOKUP_ACTION:
            entries.append(_step(row))
            continue
        if not entries or not isinstance(entries[-1], TimelineLookups):
            entries.append(TimelineLookups())
        entries[-1].add(row)
    return [_lookups(entry) if isinstance(entry, TimelineLookups) else entry for entry in entries]


def _lookups(run: TimelineLookups) -> TimelineEntry:
    """A run of lookups as one entry: only its newest and oldest times are put into words."""
    total = sum(run.by.values())
    counts = [
        ngettext("%(name)s: %(count)d lookup", "%(name)s: %(count)d lookups", count)
        % {"name": name, "count": count}
        for name, count in run.by.items()
    ]
    summary = ngettext("%(count)d lookup by %(names)s", "%(count)d lookups by %(names)s", total)
    return TimelineEntry(
        kind="lookups",
        time=_when(run.newest),
        title=_("Lookups"),
        summary=summary % {"count": total, "names": _(", ").join(run.by)},
        counts=counts if total > 1 else [],
        since=_when(run.oldest) if total > 1 else "",
    )


def timeline_context(*, history: AccountHistory, note: tuple[str, str]) -> dict[str, object]:
    """The timeline section's values: its entries drawn, and the note form's text and error."""
    entries = timeline_entries(history.rows, steps_cut=history.steps_cut)
    return {
        "timeline": fragment("mutes/timeline.jinja", entries=entries) if entries else "",
        "note_text": note[0],
        "note_error": note[1],
        "note_max_length": NOTE_MAX_LENGTH,
    }
