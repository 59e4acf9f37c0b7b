"""Shared by the whole suite: users for each role, one fake clock, factories for users, audit rows
and bulk jobs, and a clean sandbox."""

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import responses
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.test.signals import template_rendered
from django.utils import timezone, translation

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_begin, audit_complete
from muteadmin.bulk.models import BulkJob
from muteadmin.bulk.services import bulk_job_create
from muteadmin.bulk.tasks import task_queue
from muteadmin.tencent.client import TencentClient
from tests.tencent_fixtures import tencent_client

PASSWORD = "correct-horse-battery-staple"


def user_in(username: str, *groups: str) -> User:
    """A user who signs in with PASSWORD, in the named groups (roles)."""
    user = User.objects.create_user(username=username, password=PASSWORD)
    user.groups.set(Group.objects.filter(name__in=groups))
    return user


def signed_in(user: User) -> Client:
    """A test client of its own, signed in as `user`."""
    client = Client()
    client.force_login(user)
    return client


def user_with(username: str, *codenames: str) -> User:
    """A user in no group, holding only the named audit permissions."""
    user = User.objects.create_user(username=username, password=PASSWORD)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="audit", codename__in=codenames)
    )
    return user


@pytest.fixture
def moderator(db) -> User:
    return user_in("mod", "Moderator")


@pytest.fixture
def lead(db) -> User:
    return user_in("lead", "Lead")


@pytest.fixture
def auditor(db) -> User:
    return user_in("auditor", "Auditor")


@pytest.fixture
def outsider(db) -> User:
    """Signed in, but in no group."""
    return user_in("outsider")


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


class UnsleptClock:
    """Real time, but waits are recorded instead of slept."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FakeClock:
    """Wall clock, monotonic clock and sleep in one, moved only by hand or by sleeping.

    `now` is seconds since the epoch. Called, the clock answers an aware UTC datetime of `now`,
    so it also serves where a datetime clock is taken (the sandbox runtime, the bulk runner).
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        # Built from a timedelta rather than fromtimestamp(): the microseconds set stay exact.
        return EPOCH + timedelta(seconds=self.now)

    def set(self, moment: datetime) -> None:
        self.now = (moment - EPOCH).total_seconds()

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds

    @contextmanager
    def freeze_django(self, moments: Iterable[datetime] = ()) -> Iterator["FakeClock"]:
        """Inside the block, django.utils.timezone.now reads this clock.

        Given `moments`, each read first moves the clock to the next of them (rows stamped one
        by one in a bulk insert). Fields with auto_now_add (an audit row's `created_at`) call
        that library function directly and offer no other way in, so it is the one function
        the suite replaces.
        """
        upcoming = iter(moments)

        def now() -> datetime:
            moment = next(upcoming, None)
            if moment is not None:
                self.set(moment)
            return self()

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(timezone, "now", now)
            yield self


@contextmanager
def templates_drawn() -> Iterator[list[str]]:
    """The names of the templates Django's engine renders inside the block, in order.

    Read from django.test.signals.template_rendered, which the test environment sends for every
    template the engine renders.
    """
    drawn: list[str] = []

    def record(sender, template, **kwargs) -> None:
        drawn.append(template.name)

    template_rendered.connect(record)
    try:
        yield drawn
    finally:
        template_rendered.disconnect(record)


def audit_row(
    *,
    at: datetime | None = None,
    action: str = "query",
    outcome: str = "ok",
    account: str = "alice",
    operator: str = "mod",
    **fields,
) -> AuditEntry:
    """A completed audit row as if written at `at` (rows must be written oldest first).

    Written straight to the table, so a test can set any field a row may hold, pending and
    odd values included; completing through the audit services is what test_audit_calls checks.
    """
    clock = FakeClock()
    clock.set(at or timezone.now())
    defaults = {"latency_ms": 20, "completed_at": clock()}
    if action == "query":
        defaults |= {"c2c_observed": 0, "group_observed": 0}
    with clock.freeze_django():
        return AuditEntry.objects.create(
            action=action,
            outcome=outcome,
            account=account,
            operator_username=operator,
            **(defaults | fields),
        )


def audit_begun(operator=None, *, account: str = "alice", reason: str = "spam") -> AuditEntry:
    """A pending 10-minute mute change, begun through the audit service."""
    return audit_begin(
        operator=operator, action="change", account=account, c2c_requested=600, reason=reason
    )


def audit_finished(entry: AuditEntry, **overrides) -> AuditEntry:
    """`entry` completed through the audit service: a success that saw 600 s and 0 s by default."""
    fields = {"outcome": "ok", "latency_ms": 12, "request_random": 7}
    fields.update(overrides)
    fields.setdefault("c2c_observed", 600)
    fields.setdefault("group_observed", 0)
    audit_complete(entry=entry, **fields)
    return entry


def audit_completed(operator=None, **kwargs) -> AuditEntry:
    """A mute change begun and completed through the audit services, chained like any other."""
    return audit_finished(audit_begun(operator, **kwargs))


def bulk_job(**fields) -> BulkJob:
    """A bulk job created as the bulk page creates one, on the real task queue."""
    return bulk_job_create(queue=task_queue, **fields)


@pytest.fixture(autouse=True)
def backoff_sleeps(settings) -> list[float]:
    """Each test builds its Tencent clients afresh, and backoff waits are recorded, not slept."""
    from muteadmin.sandbox.runtime import sandbox_runtime

    settings.MUTEADMIN_CLOCK = UnsleptClock()
    # The emulator's 200 calls/s window would otherwise carry over from one fast test to the next.
    sandbox_runtime().rate_limiter.clear()
    return settings.MUTEADMIN_CLOCK.sleeps


@pytest.fixture
def clock(settings) -> FakeClock:
    """Time that passes only when a test says so or a retry waits: the door to Tencent's clock."""
    settings.MUTEADMIN_CLOCK = FakeClock()
    return settings.MUTEADMIN_CLOCK


@pytest.fixture
def stubbed_client(clock) -> TencentClient:
    """A client of the example Tencent app (tests/tencent_fixtures.py) on the fake clock."""
    return tencent_client(clock)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    """Stubbed HTTP: a request no stub answers fails, and so does a stub left uncalled."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture(autouse=True)
def language_reset() -> Iterator[None]:
    """A request in Chinese leaves its language active in the thread; each test starts afresh."""
    yield
    translation.deactivate()


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
