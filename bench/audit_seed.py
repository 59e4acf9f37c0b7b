"""Seed a database of its own with a million completed, hash-chained audit rows for the bench.

    .venv/bin/python -m bench.audit_seed [--database-url URL] [--rows N] [--reseed]

SQLite (var/bench/audit.sqlite3) by default; a PostgreSQL URL names a database that is created when
missing. An already-seeded database of the right size is reused unless --reseed.
"""

import argparse
import io
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{BASE_DIR / 'var' / 'bench' / 'audit.sqlite3'}"

ROWS = 1_000_000
DAYS = 30
OPERATORS = 50
ACCOUNTS = 100_000
# Rows generated, hashed and inserted per transaction.
BATCH = 50_000
SEED = 20261125

# Who the bench signs in as; unusable passwords, as the test client's force_login needs none.
AUDITOR = "bench-auditor"
SUPERUSER = "bench-admin"
LEADS = ("lead01", "lead02")

# Searched by ?q=: COMMON_TERM is in about a fifth of change reasons, RARE_TERM in a handful.
COMMON_TERM = "spam"
RARE_TERM = "pyramid"
# One change reason in this many names RARE_TERM: about a dozen rows in a million.
RARE_ODDS = 10_000

PERMANENT = 0xFFFFFFFF
# Mute lengths moderators pick, in seconds; 0 lifts a mute.
DURATIONS = (0, 600, 3600, 86_400, 604_800, 2_592_000, PERMANENT)
REASONS = (
    "spam",
    "spam links in every group",
    "crypto spam",
    "harassment",
    "hate speech",
    "scam links",
    "flooding the group",
    "impersonating staff",
    "ban evasion",
    "abusive language",
    "advertising",
    "threats against another member",
    "sharing personal data",
    "NSFW images",
    "repeated warnings ignored",
    "appeal accepted, mute lifted",
    "lifted after review",
    "刷屏 (flooding)",
    "-spam bot, see ticket",
    "=HYPERLINK(evil) pasted in chat",
)
REASON_SUFFIXES = (
    "",
    "",
    "",
    " (ticket #{n})",
    " reported by {m} users",
    " in group g{n}",
    " again",
)
# (ErrorCode or None for a transport failure, error_info, weight): what failed calls look like.
ERRORS = (
    (70107, "account not imported", 50),
    (60007, "REST API call frequency over the limit", 15),
    (60018, "request too frequent, retry later", 5),
    (60008, "service timeout or malformed HTTP request", 10),
    (130014, "internal error", 5),
    (None, "Tencent did not answer within 15 seconds.", 10),
    (None, "Internal error (ConnectionError).", 5),
)
ERROR_SHARE = 0.02
CHANGE_SHARE = 0.12
EXPORT_EVERY = 5_000

# The columns written, in order; chain_hash, computed from the others, comes last.
COLUMNS = (
    "id",
    "created_at",
    "operator_id",
    "operator_username",
    "action",
    "account",
    "c2c_requested",
    "group_requested",
    "c2c_observed",
    "group_observed",
    "reason",
    "outcome",
    "error_code",
    "error_info",
    "latency_ms",
    "request_random",
    "client_ip",
    "details",
    "completed_at",
    "chain_seq",
    "chain_hash",
)


@dataclass(frozen=True)
class SeedReport:
    """What the seeding found or did, for the bench's header."""

    database: str
    rows: int
    reused: bool
    seconds: dict[str, float]
    notes: list[str]


def django_setup(*, database_url: str) -> None:
    """Point Django's benchmark settings at `database_url` and start it (once per process)."""
    import django

    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    django.setup()


def database_label(database_url: str) -> str:
    """The URL without any password, for printing."""
    parts = urlsplit(database_url)
    host = parts.hostname or ""
    if parts.username:
        host = f"{parts.username}@{host}"
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite:")


def _sqlite_path(database_url: str) -> Path:
    return Path(urlsplit(database_url).path)


def _postgres_admin(database_url: str) -> tuple[str, str]:
    """The bench database's name and a URL for the server's `postgres` database."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    return name, urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))


def database_create(*, database_url: str, drop: bool) -> None:
    """Make sure the database exists (empty again when `drop`), before Django connects to it."""
    if _is_sqlite(database_url):
        path = _sqlite_path(database_url)
        if drop:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg
    from psycopg import sql

    name, admin_url = _postgres_admin(database_url)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        if drop:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def seed_ensure(*, database_url: str, rows: int = ROWS, reseed: bool = False) -> SeedReport:
    """Seed the database unless a finished seeding of `rows` rows is already there."""
    database_create(database_url=database_url, drop=reseed)
    django_setup(database_url=database_url)
    from django.core.management import call_command, get_commands
    from django.db import connection

    seconds: dict[str, float] = {}
    notes: list[str] = []
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    seconds["migrate"] = time.perf_counter() - started
    found = _completed_rows()
    if _marker_read() == rows and found >= rows:
        return SeedReport(database_label(database_url), found, True, seconds, notes)
    if found or _any_rows():
        # An unfinished or different seeding: completed rows cannot be deleted, so start afresh.
        connection.close()
        database_create(database_url=database_url, drop=True)
        call_command("migrate", verbosity=0)

    users = _users_create()
    started = time.perf_counter()
    inserted, hashed = _rows_insert(rows=rows, users=users)
    seconds["generate, hash and insert"] = time.perf_counter() - started
    if not hashed:
        notes.append("NOTE: muteadmin/audit/chain.py is missing: rows carry no hash chain")
    finished = hashed
    for command in ("audit_rebuild_derived", "audit_verify"):
        started = time.perf_counter()
        if command not in get_commands():
            notes.append(f"NOTE: manage.py {command} is missing: skipped")
            finished = False
            continue
        if command == "audit_verify" and not hashed:
            continue
        said = io.StringIO()
        call_command(command, stdout=said)
        seconds[command] = time.perf_counter() - started
        if said.getvalue().strip():
            notes.append(f"{command}: {said.getvalue().strip().splitlines()[0]}")
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load: planner statistics and the visibility map.
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        seconds["vacuum analyze"] = time.perf_counter() - started
    if finished:
        _marker_write(rows)
    else:
        notes.append("NOTE: the seeding is not marked finished: the next run seeds again")
    return SeedReport(database_label(database_url), inserted, False, seconds, notes)


def _completed_rows() -> int:
    from muteadmin.audit.models import AuditEntry

    return AuditEntry.objects.exclude(outcome=AuditEntry.Outcome.PENDING).count()


def _any_rows() -> bool:
    from muteadmin.audit.models import AuditEntry

    return AuditEntry.objects.exists()


# Marks a finished seeding with its size, where the schema cannot see it: SQLite's user_version,
# PostgreSQL's comment on the database.
_MARKER_PREFIX = "muteadmin bench seeded rows: "


def _marker_read() -> int | None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA user_version")
            return cursor.fetchone()[0] or None
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
            " WHERE datname = current_database()"
        )
        comment = cursor.fetchone()[0] or ""
    if comment.startswith(_MARKER_PREFIX):
        return int(comment.removeprefix(_MARKER_PREFIX))
    return None


def _marker_write(rows: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA user_version = {int(rows)}")
        else:
            name = connection.ops.quote_name(connection.settings_dict["NAME"])
            cursor.execute(f"COMMENT ON DATABASE {name} IS '{_MARKER_PREFIX}{int(rows)}'")


@dataclass(frozen=True)
class _Users:
    operators: list[tuple[int, str]]
    leads: list[tuple[int, str]]


def _users_create() -> _Users:
    from django.contrib.auth.models import Group, User

    def user(username: str, group: str | None, **extra) -> tuple[int, str]:
        person, _ = User.objects.get_or_create(username=username, defaults=extra)
        person.set_unusable_password()
        person.save()
        if group:
            person.groups.set([Group.objects.get(name=group)])
        return person.pk, username

    operators = [user(f"mod{n:02d}", "Moderator") for n in range(1, OPERATORS + 1)]
    leads = [user(name, "Lead") for name in LEADS]
    user(AUDITOR, "Auditor")
    user(SUPERUSER, None, is_staff=True, is_superuser=True)
    return _Users(operators=operators, leads=leads)


def _rows_insert(*, rows: int, users: _Users) -> tuple[int, bool]:
    """Generate, hash and insert rows in batches, one transaction each; (rows, whether hashed)."""
    from django.db import connection, transaction

    from muteadmin.audit.models import AuditEntry

    link = _chain_link()
    table = AuditEntry._meta.db_table
    names = ", ".join(connection.ops.quote_name(name) for name in COLUMNS)
    previous = None
    batch: list[tuple] = []
    inserted = 0
    for row in _rows_generate(rows=rows, users=users):
        previous = link(previous, row) if link else ""
        batch.append((*row, previous))
        if len(batch) == BATCH:
            inserted += _batch_write(connection, table, names, batch)
            batch.clear()
    if batch:
        inserted += _batch_write(connection, table, names, batch)
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(_no_style(), [AuditEntry]):
            cursor.execute(statement)
    return inserted, link is not None


def _chain_link():
    """A function (previous hash, row) -> this row's hash, from the audit log's own chain code."""
    try:
        from muteadmin.audit.chain import CHAIN_FIELDS, GENESIS_HASH, chain_hash
    except ImportError:
        return None
    names = COLUMNS[:-1]
    # Columns the seeder leaves empty (a bulk job's id...) are hashed as null, as stored.
    empty = dict.fromkeys(CHAIN_FIELDS)

    def link(previous: str | None, row: tuple) -> str:
        fields = empty | dict(zip(names, row, strict=True))
        return chain_hash(previous=previous or GENESIS_HASH, fields=fields)

    return link


def _no_style():
    from django.core.management.color import no_style

    return no_style()


def _batch_write(connection, table: str, names: str, batch: list[tuple]) -> int:
    from django.db import transaction

    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in batch:
                    copy.write_row(row)
        else:
            # Times stored exactly as the ORM stores them, so its lookups compare like with like.
            stamp = connection.ops.adapt_datetimefield_value
            created, completed = COLUMNS.index("created_at"), COLUMNS.index("completed_at")
            for index, row in enumerate(batch):
                row = list(row)
                row[created], row[completed] = stamp(row[created]), stamp(row[completed])
                batch[index] = row
            marks = ", ".join(["%s"] * len(COLUMNS))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", batch)  # noqa: S608
    return len(batch)


def _rows_generate(*, rows: int, users: _Users) -> Iterator[tuple]:
    """Rows in id order, times spread evenly over DAYS ending now; the hash is left off."""
    rng = random.Random(SEED)
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=DAYS)
    span = (end - start).total_seconds()
    # A few busy accounts and moderators, a long tail of quiet ones (Zipf-like weights).
    account_names = [f"user{n:06d}" for n in range(ACCOUNTS)]
    rng.shuffle(account_names)
    account_weights = _cumulative([1 / (rank + 50) for rank in range(ACCOUNTS)])
    operator_weights = _cumulative([1 / (rank + 3) for rank in range(len(users.operators))])
    error_weights = _cumulative([weight for _, _, weight in ERRORS])

    next_id = 1
    while next_id <= rows:
        size = min(BATCH, rows - next_id + 1)
        accounts = rng.choices(account_names, cum_weights=account_weights, k=size)
        operators = rng.choices(users.operators, cum_weights=operator_weights, k=size)
        errors = rng.choices(ERRORS, cum_weights=error_weights, k=size)
        for offset in range(size):
            row_id = next_id + offset
            created = start + timedelta(seconds=span * (row_id - 1 + rng.random()) / rows)
            operator_id, username = operators[offset]
            account = accounts[offset]
            c2c_req = group_req = None
            reason = ""
            details = "{}"
            roll = rng.random()
            if row_id % EXPORT_EVERY == 0:
                action = "export"
                operator_id, username = rng.choice(users.leads)
                account = ""
                # An export's details are the filters it was asked for.
                details = json.dumps({"operator": [operators[offset][1]]})
            elif roll < CHANGE_SHARE:
                action = "change"
                kind = rng.random()
                if kind < 0.6:
                    c2c_req = group_req = rng.choice(DURATIONS)
                elif kind < 0.8:
                    c2c_req = rng.choice(DURATIONS)
                else:
                    group_req = rng.choice(DURATIONS)
                reason = _reason(rng)
            else:
                action = "query"
            failed = action != "export" and rng.random() < ERROR_SHARE
            if action == "export":
                error_code, error_info, outcome = None, "", "ok"
                c2c_obs = group_obs = random_value = None
                latency = rng.randrange(2_000, 60_000)
            elif failed:
                error_code, error_info, _ = errors[offset]
                outcome, c2c_obs, group_obs, random_value = "error", None, None, None
                latency = 15_000 if error_code is None else int(rng.lognormvariate(4.6, 0.5))
                if error_code is not None:
                    random_value = rng.getrandbits(32)
            else:
                error_code, error_info, outcome = None, "", "ok"
                latency = int(rng.lognormvariate(4.4, 0.4))
                random_value = rng.getrandbits(32)
                c2c_obs = _observed(rng, c2c_req, action)
                group_obs = _observed(rng, group_req, action)
            completed = created + timedelta(milliseconds=latency)
            yield (
                row_id,
                created,
                operator_id,
                username,
                action,
                account,
                c2c_req,
                group_req,
                c2c_obs,
                group_obs,
                reason,
                outcome,
                error_code,
                error_info,
                latency,
                random_value,
                f"10.{row_id % 7}.{operator_id % 256}.{rng.randrange(1, 255)}",
                details,
                completed,
                row_id,
            )
        next_id += size


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _reason(rng: random.Random) -> str:
    if rng.randrange(RARE_ODDS) == 0:
        return f"recruiting members into a {RARE_TERM} scheme"
    suffix = rng.choice(REASON_SUFFIXES).format(
        n=rng.randrange(1000, 99_999), m=rng.randrange(2, 40)
    )
    return rng.choice(REASONS) + suffix


def _observed(rng: random.Random, requested: int | None, action: str) -> int:
    if requested is not None:
        return requested
    if action == "query" and rng.random() < 0.8:
        return 0
    length = rng.choice(DURATIONS[1:])
    return length if length == PERMANENT else rng.randrange(0, length)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--reseed", action="store_true", help="drop the database and seed afresh")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report = seed_ensure(database_url=args.database_url, rows=args.rows, reseed=args.reseed)
    seed_print(report, total=time.perf_counter() - started)
    return 0


def seed_print(report: SeedReport, *, total: float) -> None:
    """One line per phase, then the total."""
    state = "reused" if report.reused else "seeded"
    print(f"database: {report.database}: {report.rows:,} completed audit rows ({state})")
    for phase, seconds in report.seconds.items():
        print(f"  {phase:<28} {seconds:8.1f} s")
    for note in report.notes:
        print(f"  {note}")
    print(f"  {'total':<28} {total:8.1f} s")


if __name__ == "__main__":
    sys.exit(main())
