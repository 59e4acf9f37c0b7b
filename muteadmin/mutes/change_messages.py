"""The sentence shown once a change went through: a line per mute, before and after."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from muteadmin.core.durations import describe_seconds
from muteadmin.mutes.forms import KINDS
from muteadmin.mutes.services import MuteChangeResult

# Each kind of mute as a sentence names it in passing.
SHORT_NAMES = {"c2c": gettext_lazy("C2C"), "group": gettext_lazy("group")}
LABELS = {"c2c": gettext_lazy("C2C"), "group": gettext_lazy("Group")}


def change_message(result: MuteChangeResult) -> str:
    """A line per mute, before → after, for the message shown once the change went through."""
    before = {"c2c": result.before.c2c_seconds, "group": result.before.group_seconds}
    after = {"c2c": result.c2c_after, "group": result.group_after}
    if result.change is None:
        account = result.before.account
        if len(result.not_muted) > 1:
            return _(
                "Nothing was sent for %(account)s: its C2C and group mutes were not on, "
                "so there was nothing to lift."
            ) % {"account": account}
        return _(
            "Nothing was sent for %(account)s: its %(kind)s mute was not on, "
            "so there was nothing to lift."
        ) % {"account": account, "kind": SHORT_NAMES[result.not_muted[0]]}
    requested = {"c2c": result.change.c2c_seconds, "group": result.change.group_seconds}
    parts = []
    for kind in KINDS:
        words = {
            "kind": LABELS[kind],
            "before": describe_seconds(before[kind]),
            "after": describe_seconds(after[kind]),
        }
        if kind in result.not_muted:
            parts.append(_("%(kind)s: not muted, nothing to lift") % words)
        elif requested[kind] is None:
            parts.append(_("%(kind)s: unchanged (%(after)s)") % words)
        else:
            parts.append(_("%(kind)s: %(before)s → %(after)s") % words)
    return _("Saved for %(account)s. %(changes)s.") % {
        "account": result.change.account,
        "changes": _("; ").join(parts),
    }
