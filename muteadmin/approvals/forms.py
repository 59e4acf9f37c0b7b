"""The reject form: a reason is required."""

from django import forms


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Why it is rejected",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500}),
        error_messages={
            "required": "Give a reason for rejecting the request: the requester reads it.",
            "max_length": "Keep the reason to 500 characters or fewer (it has %(show_value)d).",
        },
    )
