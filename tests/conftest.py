"""Fixtures shared by the whole suite: users for each role, and a clean sandbox."""

import pytest
from django.contrib.auth.models import Group, User

PASSWORD = "correct-horse-battery-staple"


def _user_in(username: str, *groups: str) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD)
    user.groups.set(Group.objects.filter(name__in=groups))
    return user


@pytest.fixture
def moderator(db) -> User:
    return _user_in("mod", "Moderator")


@pytest.fixture
def lead(db) -> User:
    return _user_in("lead", "Lead")


@pytest.fixture
def auditor(db) -> User:
    return _user_in("auditor", "Auditor")


@pytest.fixture
def outsider(db) -> User:
    """Signed in, but in no group."""
    return _user_in("outsider")


@pytest.fixture
def as_moderator(client, moderator):
    client.force_login(moderator)
    return client


@pytest.fixture
def as_lead(client, lead):
    client.force_login(lead)
    return client


@pytest.fixture
def as_auditor(client, auditor):
    client.force_login(auditor)
    return client


@pytest.fixture(autouse=True)
def backoff_sleeps(monkeypatch) -> list[float]:
    """Each test builds its Tencent client afresh, and backoff waits are recorded, not slept."""
    from muteadmin.sandbox.runtime import sandbox_runtime
    from muteadmin.tencent.client import TencentClient
    from muteadmin.upstream import clients

    sleeps: list[float] = []
    monkeypatch.setitem(TencentClient.__init__.__kwdefaults__, "sleep", sleeps.append)
    clients._client_for.cache_clear()
    # The emulator's 200 calls/s window would otherwise carry over from one fast test to the next.
    sandbox_runtime().rate_limiter.clear()
    yield sleeps
    clients._client_for.cache_clear()


@pytest.fixture(autouse=True)
def upstream_slots_free():
    """Each test starts with the whole cap on Tencent calls free, and leaves no connection open."""
    from muteadmin.upstream.ratelimit import ratelimit_reset

    ratelimit_reset()
    yield
    ratelimit_reset()


@pytest.fixture(scope="session", autouse=True)
def audit_guard_lets_test_flush():
    """Transactional and live-server tests empty the database afterwards; the audit guard allows it.

    pytest-django empties it with the `flush` command (TRUNCATE on PostgreSQL, DELETE on SQLite),
    which the audit log's triggers refuse. Every call of that command runs with the guard's
    maintenance switch on, for that command and its connection only. Patched for the whole session
    because a test fixture cannot bracket the flush: for @pytest.mark.django_db(transaction=True)
    the flush runs after function fixtures are torn down, for `transactional_db` before.
    """
    from django.core.management.commands import flush

    from muteadmin.audit.maintenance import audit_maintenance

    handle = flush.Command.handle

    def handle_with_guard_aside(self, **options):
        with audit_maintenance(using=options["database"]):
            return handle(self, **options)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flush.Command, "handle", handle_with_guard_aside)
        yield
