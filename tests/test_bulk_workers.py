"""Real `manage.py db_worker` processes on a job: killed mid-job and restarted, and two at once.

Each test gets a database of its own (a SQLite file, or a fresh PostgreSQL database), because
workers in other processes cannot see the test's own transaction: a copy of one migrated once per
run by a subprocess.
"""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
# Every wait is bounded so a broken worker fails the test instead of hanging the suite.
MIGRATE_TIMEOUT = 180
JOB_TIMEOUT = 180
POLL_SECONDS = 0.05
ACCOUNTS = 300
LATENCY_MS = 40
MUTE_SECONDS = 3600

SETTINGS = f"""
from tests.settings import *  # noqa: F403

# Calls take a while, so the worker can be killed with calls in flight.
TIM_SANDBOX_LATENCY_MS = {LATENCY_MS}
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
"""

JOB_SCRIPT = """
from django.contrib.auth.models import Group, User
from muteadmin.bulk.services import bulk_job_create
from muteadmin.bulk.tasks import task_queue

lead = User.objects.create_user(username="lead", password="unused-password-1234")
lead.groups.set(Group.objects.filter(name="Lead"))
accounts = [f"raider{{i:04d}}" for i in range({count})]
job = bulk_job_create(
    operator=lead,
    operation="set",
    accounts=accounts,
    c2c_seconds={seconds},
    reason="raid",
    queue=task_queue,
)
print(job.pk)
"""


class ScratchDatabase:
    """A migrated database of its own, reachable from this process with plain SQL."""

    def __init__(self, *, url: str, workdir: Path) -> None:
        self.url = url
        self.workdir = workdir
        self.processes: list[subprocess.Popen] = []
        (workdir / "bulk_worker_settings.py").write_text(SETTINGS)

    @property
    def vendor(self) -> str:
        return "sqlite" if self.url.startswith("sqlite:") else "postgresql"

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("TIM_", "DJANGO_", "DATABASE_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="bulk_worker_settings",
            DATABASE_URL=self.url,
            PYTHONPATH=os.pathsep.join([str(self.workdir), str(BASE_DIR)]),
        )
        return env

    def manage(self, *args: str, timeout: float = MIGRATE_TIMEOUT) -> str:
        done = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def worker(self, name: str) -> subprocess.Popen:
        log = (self.workdir / f"{name}.log").open("w")
        process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0.1",
                "--worker-id",
                name,
            ],
            cwd=BASE_DIR,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """Kill -9: no chance to finish a call, update an item or say goodbye."""
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        self.processes.remove(process)

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text()[-3000:]}" for path in self.workdir.glob("*.log")
        )

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self.vendor == "sqlite":
            with sqlite3.connect(urlsplit(self.url).path, timeout=30) as conn:
                return conn.execute(sql.replace("%s", "?"), params).fetchall()
        import psycopg

        with psycopg.connect(_libpq_url(self.url), autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def job(self, job_id: int) -> tuple[str, int, int, int]:
        return self.query(
            "SELECT state, done, ok, errors FROM bulk_bulkjob WHERE id = %s", (job_id,)
        )[0]

    def wait_for(
        self, job_id: int, done: int | None = None, *, timeout: float = JOB_TIMEOUT
    ) -> None:
        """Wait until `done` accounts are done, or (None) until the job is over."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state, finished, _, _ = self.job(job_id)
            if state in ("done", "cancelled") or (done is not None and finished >= done):
                return
            for process in self.processes:
                assert process.poll() is None, f"a worker exited early\n{self.logs()}"
            time.sleep(POLL_SECONDS)
        pytest.fail(f"job {job_id} did not get that far in {timeout} s\n{self.logs()}")

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)


def _libpq_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, ""))


def _postgres_server_url() -> str:
    """The server the suite runs on (or the local default), by its maintenance database."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres:", "postgresql:")):
        return DEFAULT_POSTGRES_URL
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated once; each test works on a copy of it."""
    workdir = tmp_path_factory.mktemp("bulk-template")
    template = ScratchDatabase(url=f"sqlite:///{workdir / 'template.sqlite3'}", workdir=workdir)
    template.manage("migrate", "--no-input", "-v0")
    return workdir / "template.sqlite3"


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A PostgreSQL database migrated once, the template each test's database is created from."""
    psycopg = pytest.importorskip("psycopg")
    server = _postgres_server_url()
    name = f"muteadmin_bulk_template_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(_libpq_url(server), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at {server}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory() as workdir:
            template = ScratchDatabase(url=_database_url(server, name), workdir=Path(workdir))
            template.manage("migrate", "--no-input", "-v0")
        yield name
    finally:
        with psycopg.connect(_libpq_url(server), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch(request, tmp_path) -> Iterator[ScratchDatabase]:
    if request.param == "sqlite":
        path = tmp_path / "bulk.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        database = ScratchDatabase(url=f"sqlite:///{path}", workdir=tmp_path)
        yield from _stopped_after(database)
        return
    yield from _postgres_scratch(tmp_path, template=request.getfixturevalue("postgres_template"))


@pytest.fixture
def postgres_scratch(tmp_path, postgres_template) -> Iterator[ScratchDatabase]:
    yield from _postgres_scratch(tmp_path, template=postgres_template)


def _database_url(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def _postgres_scratch(tmp_path: Path, *, template: str) -> Iterator[ScratchDatabase]:
    import psycopg

    server = _postgres_server_url()
    name = f"muteadmin_bulk_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq_url(server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield from _stopped_after(
            ScratchDatabase(url=_database_url(server, name), workdir=tmp_path)
        )
    finally:
        with psycopg.connect(_libpq_url(server), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _stopped_after(database: ScratchDatabase) -> Iterator[ScratchDatabase]:
    try:
        yield database
    finally:
        database.stop_all()


def start_job(database: ScratchDatabase, *, count: int = ACCOUNTS) -> int:
    script = JOB_SCRIPT.format(count=count, seconds=MUTE_SECONDS)
    return int(database.manage("shell", "-v0", "-c", script).split()[-1])


def change_rows(database: ScratchDatabase, job_id: int) -> list[tuple[str, str]]:
    return database.query(
        "SELECT account, outcome FROM audit_auditentry WHERE job_id = %s AND action = 'change'",
        (job_id,),
    )


def test_a_worker_killed_mid_job_is_resumed_and_no_account_is_done_twice(scratch):
    job_id = start_job(scratch)
    first = scratch.worker("first")
    scratch.wait_for(job_id, ACCOUNTS // 4)
    scratch.kill(first)

    state, done, _, _ = scratch.job(job_id)
    assert state == "running" and done < ACCOUNTS
    in_flight = {
        account
        for (account,) in scratch.query(
            "SELECT account FROM bulk_bulkitem WHERE job_id = %s AND state = 'in_flight'",
            (job_id,),
        )
    }
    # Accounts whose change had begun (its audit row written) but not ended when the worker died,
    # and those whose change had ended but whose item was not yet marked.
    at_kill = change_rows(scratch, job_id)
    uncertain = {account for account, outcome in at_kill if outcome == "pending"} & in_flight
    settled = {account for account, outcome in at_kill if outcome == "ok"} & in_flight
    assert in_flight, "the worker was killed with nothing in flight; the test proved nothing"

    scratch.worker("second")
    scratch.wait_for(job_id)
    assert scratch.job(job_id) == ("done", ACCOUNTS, ACCOUNTS, 0)

    changes = change_rows(scratch, job_id)
    ok_changes = Counter(account for account, outcome in changes if outcome == "ok")
    assert max(ok_changes.values()) == 1, "an account was changed twice"
    rechecked = {
        account
        for (account,) in scratch.query(
            "SELECT account FROM audit_auditentry WHERE job_id = %s AND action = 'query'",
            (job_id,),
        )
    }
    # A change that may have gone out was looked up again before anything else was sent...
    assert uncertain <= rechecked
    # ...and only those: nothing else was queried, nor a recorded change made again.
    assert rechecked <= in_flight - settled
    assert all(ok_changes[account] == 1 for account in settled)
    # Each account's change went through exactly once: recorded, or confirmed by the re-check.
    for account in (f"raider{i:04d}" for i in range(ACCOUNTS)):
        assert ok_changes[account] == 1 or account in rechecked, account
    muted = scratch.query(
        "SELECT COUNT(*) FROM sandbox_sandboxmute WHERE c2c_until IS NOT NULL", ()
    )[0][0]
    assert muted == ACCOUNTS


def test_two_workers_share_one_job_on_postgresql(postgres_scratch):
    job_id = start_job(postgres_scratch)
    postgres_scratch.worker("one")
    postgres_scratch.worker("two")
    postgres_scratch.wait_for(job_id)
    assert postgres_scratch.job(job_id) == ("done", ACCOUNTS, ACCOUNTS, 0)

    claims = Counter(
        claimed_by.split(":")[1]
        for (claimed_by,) in postgres_scratch.query(
            "SELECT claimed_by FROM bulk_bulkitem WHERE job_id = %s", (job_id,)
        )
    )
    pids = {str(process.pid) for process in postgres_scratch.processes}
    assert set(claims) == pids, f"both workers should have done some accounts: {claims}"
    changes = change_rows(postgres_scratch, job_id)
    assert len(changes) == ACCOUNTS, postgres_scratch.logs()[-6000:]
    assert {outcome for _, outcome in changes} == {"ok"}
    assert len({account for account, _ in changes}) == ACCOUNTS
