"""Who may change mutes, and how far: the one place the account page, the services and bulk
jobs ask.

A change needs `mutes.change_mute`. Each length it sets must be within the operator's limit
for that kind (muteadmin.policies: the most generous of their groups'; superusers have none).
A limit caps the length a change sets, whatever the mute was before: lifting (0) is always
within it, and a length above it needs a Lead's approval even where it would shorten a
longer mute. With REQUIRE_SECOND_PERSON_FOR_PERMANENT on, a permanent mute needs a second
person's approval whatever the operator's limit.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from muteadmin.audit.denials import audit_denied
from muteadmin.policies.selectors import MuteLimits, limit_in_words, mute_limits_of
from muteadmin.tencent.nospeaking import PERMANENT

KIND_NAMES = {"c2c": gettext_lazy("C2C"), "group": gettext_lazy("group")}


class ApprovalRequired(PermissionDenied):
    """The change is above the operator's limit: a Lead's approval (a mute request) is needed."""


@dataclass(frozen=True)
class MutePermissions:
    """What a user may do to mutes beyond looking them up, and the longest they may set alone.

    `mute_permanently` is whether they may mute permanently alone, both kinds.
    """

    change: bool
    mute_permanently: bool
    limits: MuteLimits = field(default_factory=MuteLimits)
    second_person_for_permanent: bool = False

    def permits(self, kind: str, seconds: int, *, approved: bool = False) -> bool:
        """Whether setting `kind` to `seconds` is within what this user may do alone.

        `approved`: a second person's approval satisfies REQUIRE_SECOND_PERSON_FOR_PERMANENT.
        """
        if not self.change:
            return False
        if seconds == PERMANENT and self.second_person_for_permanent and not approved:
            return False
        return self.limits.covers(kind, seconds)

    def limit_sentence(self) -> str:
        """What the form says of the user's limit."""
        c2c, group = self.limits.c2c, self.limits.group
        if c2c == group:
            words = _limit_clause(c2c)
        else:
            words = _("C2C: %(c2c)s; group: %(group)s") % {
                "c2c": _limit_clause(c2c),
                "group": _limit_clause(group),
            }
        if self.second_person_for_permanent and PERMANENT in (c2c, group):
            words = _("%(limits)s; a permanent mute needs a second Lead's approval") % {
                "limits": words
            }
        return words


def _limit_clause(seconds: int) -> str:
    if seconds >= PERMANENT:
        return _("any length, permanent included")
    if seconds <= 0:
        return _("lifting only; any mute needs a Lead's approval")
    return _("up to %(limit)s; longer ones need a Lead's approval") % {
        "limit": limit_in_words(seconds)
    }


def mute_permissions(user: AbstractBaseUser) -> MutePermissions:
    """The user's mute permissions, for forms that offer only what the user may do."""
    change = user.has_perm("mutes.change_mute")
    limits = mute_limits_of(user=user) if change else MuteLimits()
    second_person = settings.REQUIRE_SECOND_PERSON_FOR_PERMANENT
    return MutePermissions(
        change=change,
        mute_permanently=change
        and not second_person
        and min(limits.c2c, limits.group) == PERMANENT,
        limits=limits,
        second_person_for_permanent=second_person,
    )


def mute_change_permitted(
    *,
    operator: AbstractBaseUser,
    c2c_seconds: int | None,
    group_seconds: int | None,
    on_behalf_of: AbstractBaseUser | None = None,
) -> None:
    """Raise PermissionDenied unless `operator` may make this change (None leaves a mute alone).

    Above the operator's limit it is ApprovalRequired. `on_behalf_of` is the requester of an
    approved request the operator carries out: they must be someone else, and their
    approval counts as the second person a permanent mute may need; the operator's own
    limit must still cover the change.
    """
    allowed = mute_permissions(operator)
    if not allowed.change:
        raise PermissionDenied(_("You may not change mutes."))
    approved = on_behalf_of is not None
    if approved and on_behalf_of.pk == operator.pk:
        raise PermissionDenied(_("You may not approve your own request."))
    for kind, seconds in (("c2c", c2c_seconds), ("group", group_seconds)):
        if seconds is None or allowed.permits(kind, seconds, approved=approved):
            continue
        raise ApprovalRequired(over_limit_sentence(allowed, kind=kind, seconds=seconds))


def over_limit_sentence(allowed: MutePermissions, *, kind: str, seconds: int) -> str:
    """Why a length needs approval, in a sentence that says what to do."""
    name = KIND_NAMES[kind]
    if seconds == PERMANENT and not allowed.limits.covers(kind, seconds):
        return _(
            "You may not mute accounts permanently (%(kind)s); ask a Lead to approve it "
            "with Request approval."
        ) % {"kind": name}
    if seconds == PERMANENT:
        return _(
            "A permanent %(kind)s mute needs a second Lead's approval; use Request approval."
        ) % {"kind": name}
    return _(
        "A %(kind)s mute of %(length)s is above your limit (%(limit)s); ask a Lead to approve "
        "it with Request approval."
    ) % {
        "kind": name,
        "length": limit_in_words(seconds),
        "limit": limit_in_words(allowed.limits.longest(kind)),
    }


def mute_change_checked(
    *,
    operator: AbstractBaseUser,
    c2c_seconds: int | None,
    group_seconds: int | None,
    asked: str = "change",
    account: str = "",
    reason: str = "",
    client_ip: str | None = None,
    app: str | None = None,
    on_behalf_of: AbstractBaseUser | None = None,
    audit: bool = True,
) -> None:
    """mute_change_permitted, and on refusal an audit row (`denied`) before PermissionDenied.

    `asked` names what was asked (change, bulk), `account` the account if there was one.
    Above the operator's limit (ApprovalRequired) is a refusal too: the change was not made.
    `audit=False` only checks (a bulk job's calls, whose job was checked when it was created).
    """
    try:
        mute_change_permitted(
            operator=operator,
            c2c_seconds=c2c_seconds,
            group_seconds=group_seconds,
            on_behalf_of=on_behalf_of,
        )
    except PermissionDenied as exc:
        if not audit:
            raise
        audit_denied(
            operator=operator,
            asked=asked,
            refused=str(exc),
            account=account,
            c2c_requested=c2c_seconds,
            group_requested=group_seconds,
            reason=reason,
            client_ip=client_ip,
            app=app,
            on_behalf_of=on_behalf_of.get_username() if on_behalf_of is not None else None,
        )
        raise
