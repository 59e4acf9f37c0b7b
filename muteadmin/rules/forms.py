"""The rule form: code, titles and descriptions in two languages, a ladder per kind, a window."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from muteadmin.core.formfocus import RefusedFieldFocus
from muteadmin.core.widgets import PLAIN_WIDGET_RENDERER
from muteadmin.rules.ladders import LadderInvalid, ladder_parse, ladder_text
from muteadmin.rules.models import DEFAULT_WINDOW_DAYS, KINDS, Rule
from muteadmin.rules.services import RuleText

LADDER_HELP = _("Lengths for the 1st, 2nd... offence, e.g. 1h, 1d, 7d, permanent. Blank: none.")


class RuleForm(forms.Form):
    """A new rule (with `code`) or an existing one's text (`rule` given: the code stays)."""

    default_renderer = PLAIN_WIDGET_RENDERER
    # Drawn by the fast renderer, so the focus on a refused field is asked for here.
    bound_field_class = RefusedFieldFocus

    code = forms.SlugField(
        max_length=32,
        label=_("Code"),
        help_text=_("Short and lowercase, as it appears in the audit log: spam, harassment."),
        error_messages={
            "required": _("Give the rule a code, such as spam."),
            "invalid": _("A code is letters, digits, hyphens and underscores only, such as spam."),
        },
    )
    title_en = forms.CharField(max_length=100, label=_("Title (English)"))
    title_zh_hans = forms.CharField(max_length=100, label=_("Title (Simplified Chinese)"))
    description_en = forms.CharField(
        required=False, label=_("Description (English)"), widget=forms.Textarea(attrs={"rows": 3})
    )
    description_zh_hans = forms.CharField(
        required=False,
        label=_("Description (Simplified Chinese)"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    c2c_ladder = forms.CharField(
        required=False, max_length=300, label=_("C2C ladder"), help_text=LADDER_HELP
    )
    group_ladder = forms.CharField(
        required=False, max_length=300, label=_("Group ladder"), help_text=LADDER_HELP
    )
    window_days = forms.IntegerField(
        min_value=1,
        max_value=3650,
        initial=DEFAULT_WINDOW_DAYS,
        label=_("Look-back window (days)"),
        help_text=_("Offences older than this no longer count towards the ladder."),
    )
    notify_by_default = forms.BooleanField(
        required=False, label=_("Tell the muted user by default")
    )

    def __init__(self, *args, rule: Rule | None = None, **kwargs) -> None:
        if rule is not None and "initial" not in kwargs:
            kwargs["initial"] = _initial(rule)
        super().__init__(*args, **kwargs)
        self.rule = rule
        if rule is not None:
            del self.fields["code"]
        for name in ("title_en", "title_zh_hans"):
            self.fields[name].error_messages["required"] = _(
                "Give the rule a title in English and in Simplified Chinese."
            )

    def clean_code(self) -> str:
        return self.cleaned_data["code"].lower()

    def _ladder(self, kind: str) -> list[int]:
        try:
            return ladder_parse(self.cleaned_data.get(f"{kind}_ladder") or "")
        except LadderInvalid as exc:
            raise ValidationError(str(exc), code="ladder") from None

    def clean_c2c_ladder(self) -> list[int]:
        return self._ladder("c2c")

    def clean_group_ladder(self) -> list[int]:
        return self._ladder("group")

    def text(self) -> RuleText:
        """What was typed, for the services; call after is_valid()."""
        data = self.cleaned_data
        return RuleText(
            title_en=data["title_en"].strip(),
            title_zh_hans=data["title_zh_hans"].strip(),
            description_en=data["description_en"].strip(),
            description_zh_hans=data["description_zh_hans"].strip(),
            ladders={kind: data[f"{kind}_ladder"] for kind in KINDS},
            window_days=data["window_days"],
            notify_by_default=data["notify_by_default"],
        )


def _initial(rule: Rule) -> dict:
    initial = {
        name: getattr(rule, name)
        for name in (
            "title_en",
            "title_zh_hans",
            "description_en",
            "description_zh_hans",
            "window_days",
            "notify_by_default",
        )
    }
    for kind in KINDS:
        initial[f"{kind}_ladder"] = ladder_text(rule.ladder(kind))
    return initial
