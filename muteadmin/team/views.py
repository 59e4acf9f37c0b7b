"""The team page (`/team/`, Leads) and the set-password page a new person's link opens."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View

from muteadmin.core.http import client_ip
from muteadmin.team.forms import MemberAddForm, RoleForm
from muteadmin.team.invitations import (
    INVITATION_HOURS,
    LinkCheck,
    LinkNotValid,
    LinkState,
    invitation_check,
)
from muteadmin.team.roles import MANAGE_TEAM, ROLES, role_with_article
from muteadmin.team.selectors import team_members
from muteadmin.team.services import (
    TeamChangeRefused,
    team_link_issue,
    team_member_active_set,
    team_member_add,
    team_password_set,
    team_role_set,
    team_two_factor_reset,
)
from muteadmin.team.two_factor import two_factor_available

# Where the set-password page keeps the link's token between its steps, so the token leaves
# the address bar (and the server's access log) after the first request.
WELCOME_SESSION_KEY = "team_welcome_token"


def _team_page(request: HttpRequest, form: MemberAddForm, *, status: int = 200) -> HttpResponse:
    two_factor = two_factor_available()
    context = {
        "form": form,
        "members": team_members(two_factor=two_factor),
        "roles": ROLES,
        "two_factor": two_factor,
        "invitation_hours": INVITATION_HOURS,
    }
    return render(request, "team/list.html", context, status=status)


def _link_page(request: HttpRequest, *, user: AbstractBaseUser, token: str, added: bool):
    """The set-password link, shown this once as a full address for the Lead to pass on."""
    link = request.build_absolute_uri(reverse("team:welcome", args=[token]))
    context = {
        "person": user.get_username(),
        "link": link,
        "added": added,
        "expires": timezone.now() + timedelta(hours=INVITATION_HOURS),
        "invitation_hours": INVITATION_HOURS,
    }
    response = render(request, "team/link.html", context)
    add_never_cache_headers(response)
    return response


class TeamView(PermissionRequiredMixin, View):
    """The staff, their roles, 2FA and last sign-in; and the form to add a person."""

    permission_required = MANAGE_TEAM

    def get(self, request: HttpRequest) -> HttpResponse:
        return _team_page(request, MemberAddForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = MemberAddForm(data=request.POST)
        if form.is_valid():
            try:
                user, token = team_member_add(
                    operator=request.user,
                    username=form.cleaned_data["username"],
                    role=form.cleaned_data["role"],
                    client_ip=client_ip(request),
                )
            except TeamChangeRefused as refused:
                form.add_error("username", str(refused))
            else:
                return _link_page(request, user=user, token=token, added=True)
        return _team_page(request, form, status=400)


class MemberActionView(PermissionRequiredMixin, View):
    """One change to one person (`action`), posted from the team page, then back to it."""

    permission_required = MANAGE_TEAM
    http_method_names = ["post"]
    action = ""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = get_object_or_404(get_user_model(), pk=pk)
        try:
            result = getattr(self, f"_{self.action}")(request, user)
        except TeamChangeRefused as refused:
            messages.error(request, str(refused))
            return redirect("team:list")
        if isinstance(result, HttpResponse):
            return result
        messages.success(request, result)
        return redirect("team:list")

    def _role(self, request: HttpRequest, user: AbstractBaseUser) -> str:
        form = RoleForm(data=request.POST)
        if not form.is_valid():
            raise TeamChangeRefused(form.errors["role"][0])
        role = form.cleaned_data["role"]
        changed = team_role_set(
            operator=request.user, user=user, role=role, client_ip=client_ip(request)
        )
        name = user.get_username()
        role = role_with_article(role)
        if changed:
            return _("%(name)s is now %(role)s.") % {"name": name, "role": role}
        return _("%(name)s was %(role)s already.") % {"name": name, "role": role}

    def _deactivate(self, request: HttpRequest, user: AbstractBaseUser) -> str:
        team_member_active_set(
            operator=request.user, user=user, active=False, client_ip=client_ip(request)
        )
        return _("%(name)s is deactivated and signed out; they can no longer sign in.") % {
            "name": user.get_username()
        }

    def _reactivate(self, request: HttpRequest, user: AbstractBaseUser) -> str:
        team_member_active_set(
            operator=request.user, user=user, active=True, client_ip=client_ip(request)
        )
        return _("%(name)s can sign in again.") % {"name": user.get_username()}

    def _two_factor_reset(self, request: HttpRequest, user: AbstractBaseUser) -> str:
        team_two_factor_reset(operator=request.user, user=user, client_ip=client_ip(request))
        return _(
            "Two-factor sign-in of %(name)s is reset; they set it up again when they next sign in."
        ) % {"name": user.get_username()}

    def _link(self, request: HttpRequest, user: AbstractBaseUser) -> HttpResponse:
        token = team_link_issue(operator=request.user, user=user, client_ip=client_ip(request))
        return _link_page(request, user=user, token=token, added=False)


@method_decorator(login_not_required, name="dispatch")
class WelcomeLinkView(View):
    """The link itself: keeps its token in the session and moves on to the set-password page."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        request.session[WELCOME_SESSION_KEY] = token
        return redirect("team:welcome_form")


@method_decorator(login_not_required, name="dispatch")
class WelcomeView(View):
    """Set a password once, through the link a Lead passed on; then sign in with it."""

    def get(self, request: HttpRequest) -> HttpResponse:
        check = self._check(request)
        if check.state != LinkState.VALID:
            return self._not_valid(request, check.state)
        return self._page(request, SetPasswordForm(check.invitation.user), check)

    def post(self, request: HttpRequest) -> HttpResponse:
        check = self._check(request)
        if check.state != LinkState.VALID:
            return self._not_valid(request, check.state)
        form = SetPasswordForm(check.invitation.user, data=request.POST)
        if not form.is_valid():
            return self._page(request, form, check, status=400)
        try:
            team_password_set(
                token=request.session[WELCOME_SESSION_KEY],
                password=form.cleaned_data["new_password1"],
                client_ip=client_ip(request),
            )
        except LinkNotValid as not_valid:
            return self._not_valid(request, not_valid.state)
        del request.session[WELCOME_SESSION_KEY]
        messages.success(request, _("Your password is set. Sign in with your username and it."))
        return redirect(resolve_url(settings.LOGIN_URL))

    def _check(self, request: HttpRequest) -> LinkCheck:
        token = request.session.get(WELCOME_SESSION_KEY)
        if not isinstance(token, str) or not token:
            return LinkCheck(LinkState.UNKNOWN)
        return invitation_check(token=token)

    def _page(
        self, request: HttpRequest, form: SetPasswordForm, check: LinkCheck, *, status: int = 200
    ) -> HttpResponse:
        context = {"form": form, "person": check.invitation.user.get_username()}
        response = render(request, "team/welcome.html", context, status=status)
        add_never_cache_headers(response)
        return response

    def _not_valid(self, request: HttpRequest, state: LinkState) -> HttpResponse:
        context = {"state": state.value, "invitation_hours": INVITATION_HOURS}
        status = 404 if state == LinkState.UNKNOWN else 410
        return render(request, "team/welcome_invalid.html", context, status=status)
