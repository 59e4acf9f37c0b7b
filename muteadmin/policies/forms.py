"""The limits form: for one group, each kind's longest mute as none, a length, or unlimited."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from muteadmin.core.formfocus import RefusedFieldFocus
from muteadmin.core.widgets import PLAIN_WIDGET_RENDERER
from muteadmin.policies.models import NO_MUTES, UNLIMITED
from muteadmin.policies.selectors import KINDS, MuteLimits

MODES = [
    ("none", _("None (lifting only)")),
    ("length", _("Up to a length")),
    ("unlimited", _("Unlimited (including permanent)")),
]
UNIT_SECONDS = {"hours": 3600, "days": 86400}
UNIT_LABELS = {"hours": _("hours"), "days": _("days")}


class GroupLimitsForm(forms.Form):
    """One group's two limits; `limits()` gives them in seconds once valid."""

    default_renderer = PLAIN_WIDGET_RENDERER
    # Drawn by the fast renderer, so the focus on a refused field is asked for here.
    bound_field_class = RefusedFieldFocus
    error_messages = {
        "length_missing": _("Enter how long, in hours or days."),
        "length_too_long": _("That is longer than Tencent allows; choose Unlimited instead."),
    }

    def __init__(self, *args, current: MuteLimits | None = None, **kwargs) -> None:
        if current is not None and "initial" not in kwargs:
            kwargs["initial"] = _initial(current)
        super().__init__(*args, **kwargs)
        for kind in KINDS:
            self.fields[f"{kind}_mode"] = forms.ChoiceField(
                label=_("Longest mute"), choices=MODES, widget=forms.Select
            )
            self.fields[f"{kind}_amount"] = forms.IntegerField(
                label=_("Length"), required=False, min_value=1
            )
            self.fields[f"{kind}_unit"] = forms.ChoiceField(
                label=_("Unit"),
                required=False,
                initial="days",
                choices=list(UNIT_LABELS.items()),
            )

    def clean(self) -> dict:
        cleaned = super().clean()
        for kind in KINDS:
            mode = cleaned.get(f"{kind}_mode")
            if mode != "length":
                continue
            amount = cleaned.get(f"{kind}_amount")
            if amount is None:
                if f"{kind}_amount" not in self.errors:
                    self.add_error(f"{kind}_amount", self._error("length_missing"))
                continue
            if amount * UNIT_SECONDS[cleaned.get(f"{kind}_unit") or "days"] >= UNLIMITED:
                self.add_error(f"{kind}_amount", self._error("length_too_long"))
        return cleaned

    def limits(self) -> dict[str, int]:
        """Each kind's limit in seconds: NO_MUTES, a length or UNLIMITED."""
        result = {}
        for kind in KINDS:
            mode = self.cleaned_data[f"{kind}_mode"]
            if mode == "none":
                result[kind] = NO_MUTES
            elif mode == "unlimited":
                result[kind] = UNLIMITED
            else:
                unit = self.cleaned_data.get(f"{kind}_unit") or "days"
                result[kind] = self.cleaned_data[f"{kind}_amount"] * UNIT_SECONDS[unit]
        return result

    def _error(self, code: str) -> ValidationError:
        return ValidationError(self.error_messages[code], code=code)


def _initial(current: MuteLimits) -> dict:
    initial = {}
    for kind in KINDS:
        seconds = current.longest(kind)
        if seconds <= NO_MUTES:
            initial[f"{kind}_mode"] = "none"
        elif seconds >= UNLIMITED:
            initial[f"{kind}_mode"] = "unlimited"
        else:
            initial[f"{kind}_mode"] = "length"
            unit = "days" if seconds % UNIT_SECONDS["days"] == 0 else "hours"
            initial[f"{kind}_amount"] = max(1, seconds // UNIT_SECONDS[unit])
            initial[f"{kind}_unit"] = unit
    return initial
