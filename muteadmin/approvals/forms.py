"""The reject form: a reason is required."""

from django import forms
from django.utils.translation import gettext_lazy as _


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is rejected"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500}),
        error_messages={
            "required": _("Give a reason for rejecting the request: the requester reads it."),
            "max_length": _("Keep the reason to 500 characters or fewer (it has %(show_value)d)."),
        },
    )
