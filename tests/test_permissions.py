"""Model permissions, read in one query: the same answers Django's ModelBackend gives."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from muteadmin.core.permissions import OneQueryModelBackend
from tests.conftest import user_in

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The user as the next request loads it, with no permissions remembered."""
    return User.objects.get(pk=user.pk)


def both_backends(user: User) -> tuple[set[str], set[str]]:
    return (
        OneQueryModelBackend().get_all_permissions(fresh(user)),
        ModelBackend().get_all_permissions(fresh(user)),
    )


def test_a_users_own_and_group_permissions_count_alike(moderator):
    export = Permission.objects.get(codename="export_audit_log")
    moderator.user_permissions.add(export)
    ours, djangos = both_backends(moderator)
    assert ours == djangos
    assert {"audit.export_audit_log", "mutes.query_mute", "mutes.change_mute"} <= ours


@pytest.mark.parametrize("role", ["Moderator", "Lead", "Auditor"])
def test_every_role_gets_what_djangos_backend_gives(role):
    user = user_in(f"someone-{role}", role)
    ours, djangos = both_backends(user)
    assert ours == djangos and ours


def test_inactive_users_have_no_permissions_and_superusers_have_all(moderator):
    moderator.is_active = False
    moderator.save()
    assert both_backends(moderator) == (set(), set())
    root = User.objects.create_superuser("root")
    ours, djangos = both_backends(root)
    assert ours == djangos
    assert len(ours) == Permission.objects.count()


def test_a_request_reads_permissions_once_in_one_query(moderator):
    user = fresh(moderator)
    with CaptureQueriesContext(connection) as queries:
        assert user.has_perm("mutes.query_mute")
        assert user.has_perms(["mutes.change_mute", "mutes.query_mute"])
        assert not user.has_perm("mutes.mute_permanently")
    assert len(queries.captured_queries) == 1


def test_the_signed_in_user_is_read_as_djangos_backend_reads_them(moderator):
    from django.utils import timezone

    moderator.last_login = timezone.now()
    moderator.save()
    ours, djangos = (
        OneQueryModelBackend().get_user(moderator.pk),
        ModelBackend().get_user(str(moderator.pk)),
    )
    assert ours == djangos
    for field in User._meta.concrete_fields:
        assert getattr(ours, field.attname) == getattr(djangos, field.attname)
    assert not ours._state.adding and ours._state.db == djangos._state.db
    assert OneQueryModelBackend().get_user(str(moderator.pk)).username == moderator.username


def test_no_user_for_an_unknown_or_inactive_id(moderator):
    assert OneQueryModelBackend().get_user(moderator.pk + 100) is None
    moderator.is_active = False
    moderator.save()
    assert OneQueryModelBackend().get_user(moderator.pk) is None
