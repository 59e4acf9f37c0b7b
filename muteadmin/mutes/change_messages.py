"""The sentence shown once a change went through: a line per mute, before and after."""

from muteadmin.core.durations import describe_seconds
from muteadmin.mutes.forms import KINDS
from muteadmin.mutes.services import MuteChangeResult

# Each kind of mute as a sentence names it in passing.
SHORT_NAMES = {"c2c": "C2C", "group": "group"}


def change_message(result: MuteChangeResult) -> str:
    """A line per mute, before → after, for the message shown once the change went through."""
    before = {"c2c": result.before.c2c_seconds, "group": result.before.group_seconds}
    after = {"c2c": result.c2c_after, "group": result.group_after}
    if result.change is None:
        lifts = " and ".join(SHORT_NAMES[kind] for kind in result.not_muted)
        were = "mutes were" if len(result.not_muted) > 1 else "mute was"
        return (
            f"Nothing was sent for {result.before.account}: its {lifts} {were} not on, "
            "so there was nothing to lift."
        )
    requested = {"c2c": result.change.c2c_seconds, "group": result.change.group_seconds}
    parts = []
    for kind in KINDS:
        label = "C2C" if kind == "c2c" else "Group"
        if kind in result.not_muted:
            parts.append(f"{label}: not muted, nothing to lift")
        elif requested[kind] is None:
            parts.append(f"{label}: unchanged ({describe_seconds(after[kind])})")
        else:
            parts.append(
                f"{label}: {describe_seconds(before[kind])} → {describe_seconds(after[kind])}"
            )
    return f"Saved for {result.change.account}. " + "; ".join(parts) + "."
