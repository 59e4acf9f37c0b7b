"""Ladders in words: "1h, 1d, 7d, permanent" typed by a Lead, and back again."""

import re

from django.utils.translation import gettext as _
from django.utils.translation import ngettext_lazy

from muteadmin.tencent.nospeaking import PERMANENT

UNIT_SECONDS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
PERMANENT_WORDS = {"permanent", "permanently", "forever", "perm"}
_STEP = re.compile(r"^(\d+)\s*(m|min|h|d|w)$")
# Steps are separated by commas or arrows.
_SEPARATORS = re.compile(r"\s*(?:,|→|->)\s*")


class LadderInvalid(ValueError):
    """A ladder that could not be read; the message says which step and what to type."""


def ladder_parse(text: str) -> list[int]:
    """The lengths in seconds of "1h, 1d, 7d, permanent" (m, h, d, w); empty for no ladder."""
    text = text.strip()
    if not text:
        return []
    steps = []
    for number, raw in enumerate(_SEPARATORS.split(text), start=1):
        word = raw.strip().lower()
        if word in PERMANENT_WORDS:
            steps.append(PERMANENT)
            continue
        match = _STEP.match(word)
        if match is None or int(match[1]) == 0:
            raise LadderInvalid(
                _(
                    "Step %(number)s (%(step)s) is not a length: write steps such as "
                    "30m, 1h, 1d, 2w or permanent, separated by commas."
                )
                % {"number": number, "step": raw or _("empty")}
            )
        seconds = int(match[1]) * UNIT_SECONDS[match[2]]
        if seconds >= PERMANENT:
            raise LadderInvalid(
                _(
                    "Step %(number)s (%(step)s) is longer than Tencent allows; "
                    "write permanent instead."
                )
                % {"number": number, "step": raw}
            )
        steps.append(seconds)
    if len(steps) > 20:
        raise LadderInvalid(_("A ladder has at most 20 steps."))
    return steps


def ladder_text(steps: list[int]) -> str:
    """A ladder as ladder_parse reads it: "1h, 1d, 7d, permanent"."""
    return ", ".join(_step_text(seconds) for seconds in steps)


def _step_text(seconds: int) -> str:
    if seconds >= PERMANENT:
        return "permanent"
    for unit in ("d", "h", "m"):
        if seconds % UNIT_SECONDS[unit] == 0:
            return f"{seconds // UNIT_SECONDS[unit]}{unit}"
    return f"{max(1, seconds // 60)}m"


def length_words(seconds: int) -> str:
    """A step as a sentence says it: "7 days", "1 day 12 hours", "30 minutes", "permanent"."""
    if seconds >= PERMANENT:
        return _("permanent")
    parts = []
    for words, size in _LENGTH_UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(words % {"count": count})
    return " ".join(parts) or _("0 seconds")


_LENGTH_UNITS = (
    (ngettext_lazy("%(count)d day", "%(count)d days", "count"), 86400),
    (ngettext_lazy("%(count)d hour", "%(count)d hours", "count"), 3600),
    (ngettext_lazy("%(count)d minute", "%(count)d minutes", "count"), 60),
    (ngettext_lazy("%(count)d second", "%(count)d seconds", "count"), 1),
)


def ladder_words(steps: list[int]) -> str:
    """A ladder as the pages show it: "1 hour → 1 day → 7 days → permanent", "—" for none."""
    return " → ".join(length_words(seconds) for seconds in steps) or "—"
