"""Changing the role limits: each change of a limit is an audit row with its old and new value."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_record
from muteadmin.policies.models import NO_MUTES, UNLIMITED, MuteLimit
from muteadmin.policies.selectors import KINDS, limit_in_words

CHANGE_PERMISSION = "policies.change_mutelimit"


def mute_limits_set(
    *,
    operator: AbstractBaseUser,
    group: Group,
    limits: dict[str, int],
    client_ip: str | None = None,
) -> list[str]:
    """Set `group`'s limits (kind: NO_MUTES, seconds or UNLIMITED); return the kinds changed.

    Only those holding CHANGE_PERMISSION may (PermissionDenied otherwise). Each limit that
    changes writes an audit row naming the group, the kind and the old and new values, in
    the same transaction as the change.
    """
    if not operator.has_perm(CHANGE_PERMISSION):
        raise PermissionDenied(_("Only Leads may change the mute limits."))
    unknown = set(limits) - set(KINDS)
    if unknown:
        raise ValueError(f"There is no kind of mute called {sorted(unknown)[0]!r}.")
    for seconds in limits.values():
        if not NO_MUTES <= seconds <= UNLIMITED:
            raise ValueError("A limit is a length from 0 seconds up to unlimited.")
    changed = []
    with transaction.atomic():
        stored = {
            row.kind: row for row in MuteLimit.objects.select_for_update().filter(group=group)
        }
        for kind, seconds in limits.items():
            row = stored.get(kind)
            old = row.longest_seconds if row is not None else NO_MUTES
            if old == seconds:
                continue
            MuteLimit.objects.update_or_create(
                group=group, kind=kind, defaults={"longest_seconds": seconds}
            )
            audit_record(
                operator=operator,
                action=AuditEntry.Action.LIMIT_CHANGE,
                client_ip=client_ip,
                details={
                    "group": group.name,
                    "kind": kind,
                    "old_seconds": old,
                    "new_seconds": seconds,
                    "old": limit_in_words(old),
                    "new": limit_in_words(seconds),
                },
            )
            changed.append(kind)
    return changed
