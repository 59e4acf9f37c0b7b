"""Reading the role limits: a user's own (the most generous of their groups'), and the table."""

from dataclasses import dataclass
from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group
from django.db import connections
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from muteadmin.core.durations import duration
from muteadmin.core.sql import table_column
from muteadmin.policies.models import NO_MUTES, UNLIMITED, MuteLimit

KINDS = tuple(MuteLimit.Kind.values)


@dataclass(frozen=True)
class MuteLimits:
    """The longest mute of each kind someone may set alone: NO_MUTES, seconds or UNLIMITED."""

    c2c: int = NO_MUTES
    group: int = NO_MUTES

    def longest(self, kind: str) -> int:
        return getattr(self, kind)

    def covers(self, kind: str, seconds: int) -> bool:
        """Whether setting this kind's mute to `seconds` is within the limit (a lift always is)."""
        return seconds == 0 or seconds <= self.longest(kind)


def limit_in_words(seconds: int) -> str:
    """A limit as the pages say it: "7 days", "1 day 12 hours", "unlimited (including
    permanent)", "none"."""
    if seconds >= UNLIMITED:
        return _("unlimited (including permanent)")
    if seconds <= NO_MUTES:
        return _("none")
    if seconds % 3600:
        # Not a whole number of hours: the limits form never sets one, a length may be.
        return duration(seconds)
    days, hours = divmod(seconds // 3600, 24)
    parts = []
    if days:
        parts.append(ngettext("%(count)d day", "%(count)d days", days) % {"count": days})
    if hours:
        parts.append(ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours})
    return " ".join(parts)


def mute_limits_of(*, user: AbstractBaseUser) -> MuteLimits:
    """The user's limits: for each kind, the most generous of their groups'; superusers' have none.

    Inactive and anonymous users may set nothing.
    """
    if not user.is_active or user.is_anonymous:
        return MuteLimits()
    if user.is_superuser:
        return MuteLimits(c2c=UNLIMITED, group=UNLIMITED)
    connection = connections[MuteLimit.objects.db]
    with connection.cursor() as cursor:
        cursor.execute(_limits_sql(connection.alias), [user.pk])
        longest = dict(cursor.fetchall())
    return MuteLimits(**{kind: longest.get(kind, NO_MUTES) for kind in KINDS})


@cache
def _limits_sql(alias: str) -> str:
    """Each kind's longest limit among a user's groups, written out once: every page with the
    change form asks, and the ORM's join and aggregate cost more to build than to run."""
    connection = connections[alias]
    qn = connection.ops.quote_name
    limits = MuteLimit._meta
    user_groups = get_user_model()._meta.get_field("groups").remote_field.through._meta

    def column(meta, name: str) -> str:
        return table_column(connection, meta, name)

    # Only quoted names from the models are formatted in; the user is a parameter.
    return (
        f"SELECT {column(limits, 'kind')}, MAX({column(limits, 'longest_seconds')})"  # noqa: S608
        f" FROM {qn(limits.db_table)} INNER JOIN {qn(user_groups.db_table)}"
        f" ON {column(user_groups, 'group')} = {column(limits, 'group')}"
        f" WHERE {column(user_groups, 'user')} = %s GROUP BY {column(limits, 'kind')}"
    )


@dataclass(frozen=True)
class GroupLimits:
    """One group's row on the policies page."""

    group: Group
    limits: MuteLimits

    @property
    def c2c_words(self) -> str:
        return limit_in_words(self.limits.c2c)

    @property
    def group_words(self) -> str:
        return limit_in_words(self.limits.group)


def mute_limit_table() -> list[GroupLimits]:
    """Every group, by name, with its limit of each kind (NO_MUTES where none is set)."""
    stored: dict[int, dict[str, int]] = {}
    for group_id, kind, seconds in MuteLimit.objects.values_list(
        "group_id", "kind", "longest_seconds"
    ):
        stored.setdefault(group_id, {})[kind] = seconds
    return [
        GroupLimits(group=group, limits=MuteLimits(**stored.get(group.pk, {})))
        for group in Group.objects.order_by("name")
    ]
