"""The `rule` field of the change forms (account page and bulk), and the ladder's suggestion."""

from collections.abc import Sequence

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from muteadmin.rules.models import Rule

RULE_MESSAGES = {
    "required": gettext_lazy(
        "Pick the rule this change is made under; the reason adds the details."
    ),
    "invalid_choice": gettext_lazy(
        "There is no rule %(value)s to pick (it may have been retired); pick one from the list."
    ),
}


def rule_choice_field(rules: Sequence[Rule]) -> forms.ChoiceField:
    """A select of `rules` (active ones), by code and title; hidden and empty when there are none.

    Left optional here: the form decides when a rule is needed (any length set, once rules
    exist), so a lift or a lookup goes without one.
    """
    if not rules:
        return forms.ChoiceField(
            required=False,
            choices=[("", "")],
            widget=forms.HiddenInput,
            error_messages=RULE_MESSAGES,
        )
    choices = [("", _("Pick a rule…"))] + [
        (rule.code, f"{rule.code}: {rule.title_en} / {rule.title_zh_hans}") for rule in rules
    ]
    return forms.ChoiceField(
        label=_("Rule"), required=False, choices=choices, error_messages=RULE_MESSAGES
    )
