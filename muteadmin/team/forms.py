"""The team page's forms: add a person, change a role."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from muteadmin.team.roles import ROLES

ROLE_CHOICES = [(role, role) for role in ROLES]


class RoleForm(forms.Form):
    role = forms.ChoiceField(
        choices=ROLE_CHOICES,
        error_messages={
            "invalid_choice": format_lazy(
                "{}{}.", gettext_lazy("Choose one of the roles: "), ", ".join(ROLES)
            )
        },
    )


class MemberAddForm(RoleForm):
    username = forms.CharField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=gettext_lazy("Letters, digits and @ . + - _ only, up to 150 characters."),
        error_messages={"required": gettext_lazy("Type the new person's username.")},
    )
    field_order = ["username", "role"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        model = get_user_model()
        if model.objects.filter(**{f"{model.USERNAME_FIELD}__iexact": username}).exists():
            raise forms.ValidationError(
                gettext_lazy(
                    "There is already someone called %(username)s; choose another username."
                ),
                code="taken",
                params={"username": username},
            )
        return username
