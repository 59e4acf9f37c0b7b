"""Time a bulk mute of 10,000 accounts against the emulator, beside a plain sequential loop.

    .venv/bin/python -m bench.bulk_bench [--database-url URL] [--accounts N] [--workers W]
        [--latency-ms MS] [--sequential N]

The bulk job runs the way it does in production: `manage.py db_worker` processes (W of them) pick
up its tasks from the database. Every account gets one setnospeaking call, so the emulator's
record of when it changed each account (SandboxMute.changed_at, stamped as the call arrives)
is the list of upstream calls as Tencent would see them: the calls per second and the largest
count in any one-second window come from there. The sequential loop then calls mute_change for
the same accounts one after another in this process. Each run starts from an empty database.
"""

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import time
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.audit_seed import database_create, database_label, django_setup

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{BASE_DIR / 'var' / 'bench' / 'bulk.sqlite3'}"

ACCOUNTS = 10_000
WORKERS = 2
LATENCY_MS = 50
MUTE_SECONDS = 3600
RATE_LIMIT = 200
TARGET_RATE = 190
WINDOW_SECONDS = 1.0
POLL_SECONDS = 0.5
JOB_TIMEOUT_SECONDS = 3600
BENCH_USER = "bench-lead"


@dataclass(frozen=True)
class Run:
    """One way of doing every account: what it took and how the calls were spread."""

    label: str
    accounts: int
    calls: int
    seconds: float
    sustained: float
    max_window: int
    busiest_second: int
    median_second: float
    peak_mb: float
    cpu_seconds: float
    errors: int


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--accounts", type=int, default=ACCOUNTS)
    parser.add_argument("--workers", type=int, default=WORKERS, help="db_worker processes")
    parser.add_argument("--latency-ms", type=int, default=LATENCY_MS)
    parser.add_argument(
        "--sequential",
        type=int,
        default=None,
        help="accounts for the sequential loop (default: all; it takes minutes)",
    )
    args = parser.parse_args(argv)

    os.environ["TIM_SANDBOX_LATENCY_MS"] = str(args.latency_ms)
    database_create(database_url=args.database_url, drop=True)
    django_setup(database_url=args.database_url)
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    environment_print(args, limit=settings.TIM_RATE_LIMIT)
    accounts = [f"bench{i:05d}" for i in range(args.accounts)]
    lead = lead_create()

    bulk = bulk_run(args, accounts=accounts, lead=lead)
    sequential = sequential_run(accounts[: args.sequential or len(accounts)], lead=lead)
    report_print([bulk, sequential], limit=settings.TIM_RATE_LIMIT)
    passed = bulk.sustained >= TARGET_RATE and bulk.max_window <= settings.TIM_RATE_LIMIT
    return 0 if passed else 1


def environment_print(args: argparse.Namespace, *, limit: int) -> None:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"database      {database_label(args.database_url)}")
    print(f"accounts      {args.accounts:,}, one setnospeaking call each")
    print(f"emulator      {args.latency_ms} ms latency per call; cap {limit} calls/s")
    print(f"bulk workers  {args.workers} db_worker process(es)")
    print(f"machine       {os.cpu_count()} CPUs, load average {load} at start")
    print()


def lead_create():
    from django.contrib.auth.models import Group, User

    lead = User.objects.create_user(username=BENCH_USER)
    lead.groups.set(Group.objects.filter(name="Lead"))
    return User.objects.get(pk=lead.pk)


def bulk_run(args: argparse.Namespace, *, accounts: list[str], lead) -> Run:
    from muteadmin.audit.models import AuditEntry

    job = bulk_set_job_create(accounts=accounts, lead=lead)
    driven = job_drive(job, workers=args.workers)
    calls = AuditEntry.objects.filter(job_id=job.pk).count()
    arrivals = _arrivals(accounts)
    job_seconds = (job.finished_at - job.started_at).total_seconds()
    return _run(
        f"bulk, {args.workers} worker(s)",
        accounts=len(accounts),
        calls=calls,
        seconds=min(driven.seconds, job_seconds) if job_seconds > 0 else driven.seconds,
        arrivals=arrivals,
        peak_mb=driven.peak_mb,
        cpu_seconds=driven.cpu_seconds,
        errors=job.errors,
    )


def bulk_set_job_create(*, accounts: list[str], lead):
    """A bulk job muting every account for an hour: one setnospeaking call each."""
    from muteadmin.bulk.models import BulkJob
    from muteadmin.bulk.services import bulk_job_create
    from muteadmin.bulk.tasks import task_queue

    return bulk_job_create(
        queue=task_queue,
        operator=lead,
        operation=BulkJob.Operation.SET,
        accounts=accounts,
        c2c_seconds=MUTE_SECONDS,
        reason="bench",
    )


@dataclass(frozen=True)
class Driven:
    """How long `manage.py db_worker` processes took to finish a job, and what they used."""

    seconds: float
    peak_mb: float
    cpu_seconds: float


def job_drive(job, *, workers: int, env: dict[str, str] | None = None) -> Driven:
    """Run `workers` db_worker processes until `job` is finished; refresh `job` from the database.

    `env` is added to this process's environment (by default the workers use bench.settings).
    """
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", **(env or {})}
    command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.2"]
    started = time.perf_counter()
    processes = [
        subprocess.Popen(  # noqa: S603
            [*command, "--worker-id", f"bench-{index}"],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(workers)
    ]
    try:
        deadline = time.monotonic() + JOB_TIMEOUT_SECONDS
        while True:
            job.refresh_from_db()
            if job.finished:
                break
            if time.monotonic() > deadline or any(w.poll() is not None for w in processes):
                raise SystemExit(f"bulk job stalled at {job.done}/{job.total}")
            _progress(f"bulk: {job.done:>6,}/{job.total:,}")
            time.sleep(POLL_SECONDS)
        seconds = time.perf_counter() - started
        peaks = [_status_mb(worker.pid, "VmHWM") for worker in processes]
        cpu = sum(_cpu_seconds(worker.pid) for worker in processes)
    finally:
        for worker in processes:
            worker.terminate()
        for worker in processes:
            worker.wait(timeout=30)
    _progress("")
    job.refresh_from_db()
    return Driven(seconds=seconds, peak_mb=max(peaks), cpu_seconds=cpu)


def sequential_run(accounts: list[str], *, lead) -> Run:
    from muteadmin.mutes.services import mute_change
    from muteadmin.tencent.errors import TencentError

    _rss_high_water_reset()
    cpu_before = time.process_time()
    started = time.perf_counter()
    errors = 0
    for index, account in enumerate(accounts, 1):
        try:
            mute_change(
                account=account,
                operator=lead,
                reason="bench, one at a time",
                c2c_seconds=MUTE_SECONDS,
                query_before=False,
            )
        except TencentError:
            errors += 1
        if index % 100 == 0:
            _progress(f"sequential: {index:>6,}/{len(accounts):,}")
    _progress("")
    seconds = time.perf_counter() - started
    return _run(
        "plain sequential loop",
        accounts=len(accounts),
        calls=len(accounts),
        seconds=seconds,
        arrivals=_arrivals(accounts),
        peak_mb=_status_mb("self", "VmHWM"),
        cpu_seconds=time.process_time() - cpu_before,
        errors=errors,
    )


def _arrivals(accounts: list[str]) -> list[float]:
    """When the emulator answered each account's (last) change, in seconds since the epoch."""
    from muteadmin.sandbox.models import SandboxMute

    stamps: list[datetime] = list(
        SandboxMute.objects.filter(account__in=accounts).values_list("changed_at", flat=True)
    )
    return sorted(stamp.timestamp() for stamp in stamps)


def _run(
    label: str,
    *,
    accounts: int,
    calls: int,
    seconds: float,
    arrivals: list[float],
    peak_mb: float,
    cpu_seconds: float,
    errors: int,
) -> Run:
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
    per_second = _per_second(arrivals)
    # The first and last seconds are partial: the steady state is what lies between.
    steady = per_second[1:-1] or per_second
    return Run(
        label=label,
        accounts=accounts,
        calls=calls,
        seconds=seconds,
        sustained=(len(arrivals) - 1) / span if span else 0.0,
        max_window=max_window(arrivals),
        busiest_second=max(per_second, default=0),
        median_second=statistics.median(steady) if steady else 0.0,
        peak_mb=peak_mb,
        cpu_seconds=cpu_seconds,
        errors=errors,
    )


def max_window(arrivals: list[float], *, window: float = WINDOW_SECONDS) -> int:
    """The most calls in any window of `window` seconds, sliding over every call (sorted input)."""
    best = 0
    for end, stamp in enumerate(arrivals):
        start = bisect_left(arrivals, stamp - window + 1e-9, 0, end + 1)
        best = max(best, end - start + 1)
    return best


def _per_second(arrivals: list[float]) -> list[int]:
    if not arrivals:
        return []
    first = arrivals[0]
    counts = [0] * (int(arrivals[-1] - first) + 1)
    for stamp in arrivals:
        counts[int(stamp - first)] += 1
    return counts


def report_print(runs: list[Run], *, limit: int) -> None:
    rows = [
        ("accounts", lambda run: f"{run.accounts:,}"),
        ("upstream calls (audit rows)", lambda run: f"{run.calls:,}"),
        ("accounts in error", lambda run: f"{run.errors:,}"),
        ("total time", lambda run: f"{run.seconds:,.1f} s"),
        ("sustained calls/s", lambda run: f"{run.sustained:.1f}"),
        ("median calls in a whole second", lambda run: f"{run.median_second:.0f}"),
        ("max calls in any 1-s window", lambda run: f"{run.max_window}"),
        ("peak memory (RSS high-water)", lambda run: f"{run.peak_mb:.0f} MB"),
        ("CPU time", lambda run: f"{run.cpu_seconds:,.1f} s"),
        ("CPU per call", lambda run: f"{run.cpu_seconds / max(run.calls, 1) * 1000:.1f} ms"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'':<{width}}  " + "  ".join(f"{run.label:>24}" for run in runs))
    for name, cell in rows:
        print(f"{name:<{width}}  " + "  ".join(f"{cell(run):>24}" for run in runs))
    bulk, sequential = runs[0], runs[1]
    print()
    if sequential.seconds and bulk.seconds:
        speedup = (sequential.seconds / sequential.accounts) / (bulk.seconds / bulk.accounts)
        print(f"bulk is {speedup:.1f}x faster per account than the sequential loop")
    if bulk.cpu_seconds:
        # Workers spend CPU between calls (audit rows, limiter, emulator, bookkeeping); this many
        # cores' worth of it per second is what the target asks of the machine.
        cores = TARGET_RATE * bulk.cpu_seconds / max(bulk.calls, 1)
        print(
            f"{TARGET_RATE} calls/s needs about {cores:.1f} CPU cores for the workers alone "
            f"at this CPU per call; this machine has {os.cpu_count()}"
        )
    _verdict(f"sustained >= {TARGET_RATE} calls/s", bulk.sustained >= TARGET_RATE)
    _verdict(f"no 1-s window above {limit}", bulk.max_window <= limit)


def _progress(text: str) -> None:
    """A progress line on a terminal only, so saved output holds just the report."""
    if sys.stderr.isatty():
        print(f"\r  {text:<40}", end="", file=sys.stderr, flush=True)


def _verdict(label: str, passed: bool) -> None:
    print(f"{'PASS' if passed else 'MISS'}  {label}")


def _status_mb(pid: int | str, name: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime and stime, fields 14 and 15 of stat(5), in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_high_water_reset() -> None:
    """Restart this process's RSS high-water mark (VmHWM), where Linux allows it."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


if __name__ == "__main__":
    raise SystemExit(main())
