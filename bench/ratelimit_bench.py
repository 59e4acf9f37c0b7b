"""Check the cap on Tencent calls where Tencent counts it: at a receiving HTTPS server.

    .venv/bin/python -m bench.ratelimit_bench [--database-url URL] [--accounts N] [--workers W]
        [--latency-ms MS] [--runs R]

A local HTTPS server (bench/receiver.py, self-signed certificate made at start) answers
setnospeaking as Tencent does, after MS of latency, and keeps its own strict sliding one-second
count, answering 60007 past 200 as Tencent would. W `manage.py db_worker` processes run a bulk
mute of N accounts against it, configured as for a real Tencent app (TIM_SDKAPPID,
TIM_SECRET_KEY, TIM_API_BASE_URL) and trusting the certificate through REQUESTS_CA_BUNDLE. The
server records when each request arrives: the busiest one-second window of arrivals must hold at
most TIM_RATE_LIMIT, with no 60007 refusal, in every one of R runs.
"""

import argparse
import contextlib
import multiprocessing
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from bench.audit_seed import database_create, database_label, django_setup
from bench.bulk_bench import (
    BASE_DIR,
    LATENCY_MS,
    TARGET_RATE,
    WORKERS,
    bulk_set_job_create,
    job_drive,
    lead_create,
    max_window,
)
from bench.receiver import Arrivals, receiver_serving

DEFAULT_DATABASE_URL = f"sqlite:///{BASE_DIR / 'var' / 'bench' / 'ratelimit.sqlite3'}"
ACCOUNTS = 2_000
# Measured at a receiver before this bench existed, with the same workers and 1,500 changes.
BASELINE_PEAKS = (203, 202)
SDKAPPID = "1400000001"
RECEIVER_NICE = -10  # needs root; otherwise the receiver runs at the usual priority


@dataclass(frozen=True)
class Outcome:
    arrivals: int
    peak: int
    sustained: float
    refused: int
    errors: int
    seconds: float

    def held(self, limit: int) -> bool:
        return self.peak <= limit and self.refused == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--accounts", type=int, default=ACCOUNTS)
    parser.add_argument("--workers", type=int, default=WORKERS, help="db_worker processes")
    parser.add_argument("--latency-ms", type=int, default=LATENCY_MS)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args(argv)

    database_create(database_url=args.database_url, drop=True)
    django_setup(database_url=args.database_url)
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    limit = settings.TIM_RATE_LIMIT
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"database      {database_label(args.database_url)}")
    print(f"accounts      {args.accounts:,} a run, one setnospeaking call each; {args.runs} run(s)")
    print(f"receiver      HTTPS on 127.0.0.1, {args.latency_ms} ms latency, 60007 past {limit}/s")
    print(f"bulk workers  {args.workers} db_worker process(es)")
    print(f"machine       {os.cpu_count()} CPUs, load average {load} at start")
    print()
    lead = lead_create()
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="muteadmin-receiver-") as tls_dir:
        for run in range(args.runs):
            outcome = run_once(args, run=run, lead=lead, tls_dir=Path(tls_dir), limit=limit)
            outcomes.append(outcome)
            print(
                f"run {run + 1:>2}  {outcome.arrivals:,} arrivals in {outcome.seconds:.1f} s, "
                f"busiest 1-s window {outcome.peak}, sustained {outcome.sustained:.1f}/s, "
                f"60007 refusals {outcome.refused}, accounts in error {outcome.errors}"
            )
    return report_print(outcomes, limit=limit)


def run_once(args: argparse.Namespace, *, run: int, lead, tls_dir: Path, limit: int) -> Outcome:
    accounts = [f"rl{run:02d}-{index:05d}" for index in range(args.accounts)]
    job = bulk_set_job_create(accounts=accounts, lead=lead)
    with receiver_in_process(cap=limit, latency=args.latency_ms / 1000, tls_dir=tls_dir) as (
        base_url,
        arrivals,
    ):
        env = {
            "DJANGO_SETTINGS_MODULE": "bench.receiver_settings",
            "TIM_SDKAPPID": SDKAPPID,
            # The receiver checks no signature: any key signs UserSigs it accepts.
            "TIM_SECRET_KEY": secrets.token_hex(32),
            "TIM_API_BASE_URL": base_url,
            "REQUESTS_CA_BUNDLE": str(tls_dir / "cert.pem"),
        }
        job_drive(job, workers=args.workers, env=env)
        # Requests still in the receiver's hands are waited for, so every one is counted.
        time.sleep(args.latency_ms / 1000 + 0.1)
    stamps = sorted(arrivals.stamps)
    refused = arrivals.refused
    span = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    return Outcome(
        arrivals=len(stamps),
        peak=max_window(stamps),
        sustained=(len(stamps) - 1) / span if span else 0.0,
        refused=refused,
        errors=job.errors,
        seconds=span,
    )


@contextmanager
def receiver_in_process(
    *, cap: int, latency: float, tls_dir: Path
) -> Iterator[tuple[str, Arrivals]]:
    """Serve bench/receiver.py from a process of its own; fill in the arrivals when it stops.

    Tencent's servers share no CPU with the workers: the receiver gets a process (no lock shared
    with this one's threads) at a raised priority where allowed, so its own stalls on a busy
    machine do not shift the arrival times it records.
    """
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_receiver_main, args=(theirs, cap, latency, tls_dir))
    process.start()
    arrivals = Arrivals(cap=cap)
    try:
        yield ours.recv(), arrivals
    finally:
        ours.send("stop")
        arrivals.stamps, arrivals.refused, arrivals.accounts = ours.recv()
        process.join(timeout=30)


def _receiver_main(pipe: Connection, cap: int, latency: float, tls_dir: Path) -> None:
    with contextlib.suppress(OSError):
        os.nice(RECEIVER_NICE)
    with receiver_serving(cap=cap, latency=latency, tls_dir=tls_dir) as (base_url, arrivals):
        pipe.send(base_url)
        pipe.recv()
        pipe.send((arrivals.stamps, arrivals.refused, arrivals.accounts))


def report_print(outcomes: list[Outcome], *, limit: int) -> int:
    held = sum(outcome.held(limit) for outcome in outcomes)
    sustained = statistics.median(outcome.sustained for outcome in outcomes)
    baseline = " and ".join(str(peak) for peak in BASELINE_PEAKS)
    print()
    print(f"{'':<32}  {'baseline':>12}  {'this run':>12}")
    peak = max(outcome.peak for outcome in outcomes)
    print(f"{'busiest 1-s window of arrivals':<32}  {baseline:>12}  {peak:>12}")
    print(f"{'60007 refusals':<32}  {'':>12}  {sum(o.refused for o in outcomes):>12}")
    print(f"{'sustained calls/s (median)':<32}  {f'>= {TARGET_RATE}':>12}  {sustained:>12.1f}")
    print()
    cap_held = held == len(outcomes)
    rate_held = sustained >= TARGET_RATE
    verdict = "PASS" if cap_held else "MISS"
    print(f"{verdict}  no 1-s window above {limit} and no 60007: {held}/{len(outcomes)} runs")
    print(f"{'PASS' if rate_held else 'MISS'}  sustained >= {TARGET_RATE} calls/s")
    return 0 if cap_held and rate_held else 1


if __name__ == "__main__":
    raise SystemExit(main())
