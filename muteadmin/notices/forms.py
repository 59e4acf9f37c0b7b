"""The form Leads write notice texts with."""

from django import forms
from django.utils.translation import gettext_lazy as _

from muteadmin.notices.models import NoticeTemplate


class NoticeTemplateForm(forms.ModelForm):
    """A notice text for a rule (blank: the default) and language, and the zone of {ends_at}."""

    class Meta:
        model = NoticeTemplate
        fields = ["rule_code", "language", "time_zone", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}
        labels = {
            "rule_code": _("Rule code"),
            "language": _("Language"),
            "time_zone": _("Time zone"),
            "text": _("Text"),
        }
