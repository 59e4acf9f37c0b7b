"""Reading the staff for the team page: who they are, their role, 2FA and last sign-in."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Q

from muteadmin.team.roles import ROLES, role_names
from muteadmin.team.two_factor import two_factor_enrolled_ids


@dataclass(frozen=True)
class TeamMember:
    """One person on the team page."""

    pk: int
    username: str
    roles: list[str]
    is_active: bool
    is_superuser: bool
    password_set: bool
    # None when this server has no two-factor sign-in.
    two_factor: bool | None
    last_login: datetime | None

    @property
    def role(self) -> str:
        return self.roles[0] if len(self.roles) == 1 else ""


def team_members(*, two_factor: bool) -> list[TeamMember]:
    """Everyone with a role, staff or superuser status: active first, then by username.

    `two_factor` says whether the server has two-factor sign-in (else each status is None).
    """
    model = get_user_model()
    users = (
        model.objects.filter(Q(groups__name__in=ROLES) | Q(is_staff=True) | Q(is_superuser=True))
        # An API token's own account (muteadmin.api) is listed with the tokens, not here.
        .filter(api_token__isnull=True)
        .distinct()
        .order_by("-is_active", model.USERNAME_FIELD)
        .prefetch_related("groups")
    )
    users = list(users)
    enrolled = set()
    if two_factor:
        enrolled = two_factor_enrolled_ids(user_ids=[user.pk for user in users])
    return [
        TeamMember(
            pk=user.pk,
            username=user.get_username(),
            roles=role_names(group.name for group in user.groups.all()),
            is_active=user.is_active,
            is_superuser=user.is_superuser,
            password_set=user.has_usable_password(),
            two_factor=(user.pk in enrolled) if two_factor else None,
            last_login=user.last_login,
        )
        for user in users
    ]
