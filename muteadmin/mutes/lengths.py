"""The lengths the change forms offer: presets, custom units, and a length put back as fields."""

from django.utils.translation import gettext_lazy

from muteadmin.tencent.nospeaking import PERMANENT

CUSTOM = "custom"
KINDS = ("c2c", "group")
KIND_LABELS = {
    "c2c": gettext_lazy("One-to-one (C2C) messages"),
    "group": gettext_lazy("Group messages"),
}

PRESETS = [
    ("", gettext_lazy("Leave as it is")),
    ("0", gettext_lazy("Lift the mute")),
    ("600", gettext_lazy("10 minutes")),
    ("3600", gettext_lazy("1 hour")),
    ("86400", gettext_lazy("1 day")),
    ("604800", gettext_lazy("7 days")),
    ("2592000", gettext_lazy("30 days")),
    (str(PERMANENT), gettext_lazy("Permanently")),
    (CUSTOM, gettext_lazy("Custom…")),
]

UNIT_SECONDS = {"minutes": 60, "hours": 3600, "days": 86400}
UNIT_LABELS = {
    "minutes": gettext_lazy("minutes"),
    "hours": gettext_lazy("hours"),
    "days": gettext_lazy("days"),
}


def length_initial(kind: str, seconds: int) -> dict[str, str]:
    """The form's initial fields for one kind set to `seconds`: a preset, else a custom length."""
    if str(seconds) in dict(PRESETS):
        return {f"{kind}_seconds": str(seconds)}
    unit = next(
        (unit for unit in ("days", "hours") if seconds % UNIT_SECONDS[unit] == 0), "minutes"
    )
    return {
        f"{kind}_seconds": CUSTOM,
        f"{kind}_custom": str(max(1, seconds // UNIT_SECONDS[unit])),
        f"{kind}_custom_unit": unit,
    }
