"""Changing the staff: add a person, change a role, deactivate, reactivate, reset 2FA.

Each change writes an audit row (action `team`) in the same transaction: what changed, old and
new, and whose account. Nobody is made a superuser here, nobody changes their own role or
deactivates themselves, and only a superuser acts on a superuser. `operator` None is the
server's operator at the command line (`manage.py team_add`), who may do what a Lead may.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_record
from muteadmin.team.invitations import invitation_issue, invitation_redeem
from muteadmin.team.roles import MANAGE_TEAM, ROLES, role_names
from muteadmin.team.sessions import sessions_end
from muteadmin.team.two_factor import two_factor_available, two_factor_remove


class TeamChangeRefused(Exception):
    """A change the team page does not make; the message says why, as a sentence."""


def _operator_name(operator: AbstractBaseUser | None) -> str:
    return operator.get_username() if operator is not None else ""


def _require_manager(operator: AbstractBaseUser | None) -> None:
    if operator is not None and not operator.has_perm(MANAGE_TEAM):
        raise PermissionDenied(_("Only Leads may change the team."))


def _require_other(operator: AbstractBaseUser | None, target: AbstractBaseUser, doing: str) -> None:
    """Refuse acting on oneself, and on a superuser unless one is."""
    if operator is not None and operator.pk == target.pk:
        raise TeamChangeRefused(
            _("You cannot %(doing)s yourself; ask another Lead.") % {"doing": doing}
        )
    if target.is_superuser and not (operator is None or operator.is_superuser):
        raise TeamChangeRefused(
            _("%(name)s is a superuser; only a superuser can %(doing)s them.")
            % {"name": target.get_username(), "doing": doing}
        )


def _role_group(role: str) -> Group:
    if role not in ROLES:
        raise TeamChangeRefused(
            _("There is no role called %(role)s; choose %(roles)s.")
            % {"role": repr(role), "roles": ", ".join(ROLES)}
        )
    return Group.objects.get(name=role)


def _audit(
    *,
    operator: AbstractBaseUser | None,
    target: AbstractBaseUser,
    change: str,
    client_ip: str | None,
    **details: Any,
) -> AuditEntry:
    """The change's audit row, chained like every other; never holds a link's token."""
    return audit_record(
        operator=operator,
        action=AuditEntry.Action.TEAM,
        client_ip=client_ip,
        details={"change": change, "username": target.get_username(), **details},
    )


def _current_role(user: AbstractBaseUser) -> str:
    return ", ".join(role_names(user.groups.values_list("name", flat=True)))


def team_member_add(
    *,
    operator: AbstractBaseUser | None,
    username: str,
    role: str,
    client_ip: str | None = None,
) -> tuple[AbstractBaseUser, str]:
    """Add a person in `role` with no password yet; return them and their set-password token."""
    _require_manager(operator)
    group = _role_group(role)
    model = get_user_model()
    try:
        with transaction.atomic():
            user = model.objects.create_user(username=username)
            user.groups.set([group])
            token = invitation_issue(user=user, issued_by=_operator_name(operator))
            _audit(operator=operator, target=user, change="add", client_ip=client_ip, role=role)
    except IntegrityError as exc:
        raise TeamChangeRefused(
            _("There is already someone called %(username)s; choose another username.")
            % {"username": username}
        ) from exc
    return user, token


def team_link_issue(
    *, operator: AbstractBaseUser | None, user: AbstractBaseUser, client_ip: str | None = None
) -> str:
    """A new set-password link for someone who has not set a password yet (theirs expired)."""
    _require_manager(operator)
    _require_other(operator, user, _("issue a set-password link for"))
    if user.has_usable_password():
        raise TeamChangeRefused(
            _("%(name)s has set a password already; a new link is only for people who have not.")
            % {"name": user.get_username()}
        )
    with transaction.atomic():
        token = invitation_issue(user=user, issued_by=_operator_name(operator))
        _audit(operator=operator, target=user, change="link", client_ip=client_ip)
    return token


def team_role_set(
    *,
    operator: AbstractBaseUser | None,
    user: AbstractBaseUser,
    role: str,
    client_ip: str | None = None,
) -> bool:
    """Make `role` the person's one role; False when it was theirs already."""
    _require_manager(operator)
    _require_other(operator, user, _("change the role of"))
    group = _role_group(role)
    with transaction.atomic():
        old = _current_role(user)
        if old == role:
            return False
        others = Group.objects.filter(name__in=ROLES).exclude(pk=group.pk)
        user.groups.remove(*others)
        user.groups.add(group)
        _audit(
            operator=operator, target=user, change="role", client_ip=client_ip, old=old, new=role
        )
    return True


def team_role_from_sign_in(
    *,
    user: AbstractBaseUser,
    role: str,
    source: str,
    added: bool,
    client_ip: str | None = None,
) -> bool:
    """Make `role` the person's one role as a single sign-on provider gave it at sign-in;
    False when it was theirs already.

    Nobody on the team made the change (the row has no operator); `source` names the provider
    and `added` says the person was created by this sign-in. Flags such as superuser or staff
    are never touched.
    """
    group = _role_group(role)
    with transaction.atomic():
        old = _current_role(user)
        if old == role and not added:
            return False
        others = Group.objects.filter(name__in=ROLES).exclude(pk=group.pk)
        user.groups.remove(*others)
        user.groups.add(group)
        _audit(
            operator=None,
            target=user,
            change="add" if added else "role",
            client_ip=client_ip,
            source=source,
            **({"role": role} if added else {"old": old, "new": role}),
        )
    return True


def team_member_active_set(
    *,
    operator: AbstractBaseUser | None,
    user: AbstractBaseUser,
    active: bool,
    client_ip: str | None = None,
) -> bool:
    """Deactivate (ending their sessions) or reactivate a person; False when already so."""
    _require_manager(operator)
    _require_other(operator, user, _("deactivate") if not active else _("reactivate"))
    if user.is_active == active:
        return False
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        _audit(
            operator=operator,
            target=user,
            change="activate" if active else "deactivate",
            client_ip=client_ip,
            old="active" if not active else "inactive",
            new="active" if active else "inactive",
        )
    if not active:
        sessions_end(user=user)
    return True


def team_two_factor_reset(
    *, operator: AbstractBaseUser | None, user: AbstractBaseUser, client_ip: str | None = None
) -> int:
    """Remove the person's second factors, so they can set one up again; how many there were."""
    _require_manager(operator)
    _require_other(operator, user, _("reset two-factor sign-in for"))
    if not two_factor_available():
        raise TeamChangeRefused(_("Two-factor sign-in is not set up on this server."))
    with transaction.atomic():
        removed = two_factor_remove(user=user)
        _audit(
            operator=operator,
            target=user,
            change="two_factor_reset",
            client_ip=client_ip,
            removed=removed,
        )
    return removed


def team_password_set(
    *, token: str, password: str, client_ip: str | None = None
) -> AbstractBaseUser:
    """Set a person's password through their link (spending it), audited as theirs."""
    with transaction.atomic():
        user = invitation_redeem(token=token, password=password)
        _audit(operator=user, target=user, change="password_set", client_ip=client_ip)
    return user
