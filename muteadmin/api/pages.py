"""The team page's API tokens (/team/tokens/): Leads list, create and revoke them.

A new token's secret is shown on the page that answers its creation, once; the list shows
names, scopes, role, expiry and last use, never a secret.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy
from django.views import View

from muteadmin.api.models import ApiToken
from muteadmin.api.tokens import (
    DEFAULT_DAYS,
    MAX_DAYS,
    TokenChangeRefused,
    api_token_create,
    api_token_revoke,
    api_tokens,
)
from muteadmin.core.http import client_ip
from muteadmin.team.roles import MANAGE_TEAM, ROLES


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=64,
        label=gettext_lazy("Name"),
        help_text=gettext_lazy("Letters, digits, - and _; calls are audited as token:<name>."),
        error_messages={"required": gettext_lazy("Name the token, for example spam-classifier.")},
    )
    scopes = forms.MultipleChoiceField(
        choices=ApiToken.Scope.choices,
        label=gettext_lazy("Scopes"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Tick at least one scope the token may use.")},
    )
    role = forms.ChoiceField(
        choices=[(role, role) for role in ROLES],
        label=gettext_lazy("Role"),
        help_text=gettext_lazy("The token acts under this role's limits and permissions."),
        error_messages={
            "invalid_choice": format_lazy(
                "{}{}.", gettext_lazy("Choose one of the roles: "), ", ".join(ROLES)
            )
        },
    )
    days = forms.IntegerField(
        min_value=1,
        max_value=MAX_DAYS,
        initial=DEFAULT_DAYS,
        label=gettext_lazy("Expires in (days)"),
        error_messages={"invalid": gettext_lazy("Enter a whole number of days.")},
    )


def _page(request: HttpRequest, form: TokenForm, *, secret: str = "", status: int = 200):
    context = {"form": form, "tokens": api_tokens(), "secret": secret}
    response = render(request, "api/tokens.html", context, status=status)
    if secret:
        add_never_cache_headers(response)
    return response


class TokensView(PermissionRequiredMixin, View):
    """The tokens, and the form that creates one (its secret shown once on the answer)."""

    permission_required = MANAGE_TEAM

    def get(self, request: HttpRequest) -> HttpResponse:
        return _page(request, TokenForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = TokenForm(data=request.POST)
        if form.is_valid():
            try:
                token, secret = api_token_create(
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    role=form.cleaned_data["role"],
                    days=form.cleaned_data["days"],
                    operator=request.user,
                    client_ip=client_ip(request),
                )
            except TokenChangeRefused as refused:
                form.add_error("name", str(refused))
            else:
                messages.success(
                    request, gettext("Token %(name)s created; copy it now.") % {"name": token.name}
                )
                return _page(request, TokenForm(), secret=secret)
        return _page(request, form, status=400)


class TokenRevokeView(PermissionRequiredMixin, View):
    """Revoke one token at once."""

    permission_required = MANAGE_TEAM

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = get_object_or_404(ApiToken, pk=pk)
        try:
            api_token_revoke(name=token.name, operator=request.user, client_ip=client_ip(request))
        except (TokenChangeRefused, PermissionDenied) as refused:
            messages.error(request, str(refused))
        else:
            messages.success(
                request,
                gettext("Token %(name)s revoked; its next request is refused.")
                % {"name": token.name},
            )
        return redirect("api_tokens:list")
