"""The form that schedules a change: the account page's lengths, rule and reason, plus when."""

from django import forms
from django.utils.translation import gettext_lazy as _

from muteadmin.core.moments import LOCAL_INPUT_FORMATS
from muteadmin.mutes.forms import AccountField, MuteChangeForm


class ScheduleForm(MuteChangeForm):
    """A change to make at `run_at`; above the user's limits the page offers a request instead."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A scheduled change sends no notice, sets no reminder and has no page state to guard:
        # the state it is guarded by is queried when it is scheduled.
        for name in ("notify", "notice_language", "notify_offered", "review"):
            self.fields.pop(name)
        fields = {
            "account": AccountField(label=_("Account (UserID)"), refuse_padding=True),
            "run_at": forms.DateTimeField(
                label=_("At"),
                input_formats=LOCAL_INPUT_FORMATS,
                widget=forms.DateTimeInput(
                    attrs={"type": "datetime-local", "step": 1}, format="%Y-%m-%dT%H:%M"
                ),
                error_messages={
                    "required": _("Pick when the change is to be made."),
                    "invalid": _("Enter a date and time, such as 2026-12-24 18:00."),
                },
            ),
        }
        self.fields = fields | dict(self.fields)
