"""Export every audit row as .xlsx and as CSV: peak memory and time of each, side by side.

    .venv/bin/python -m bench.xlsx_bench [--database-url URL] [--rows N] [--reseed]

Seeds the database first when needed (bench/audit_seed.py: 1,000,000 rows unless --rows says
otherwise), then downloads /audit/export.csv and /audit/export.csv?format=xlsx as an Auditor,
each in a child process of its own, so that each child's peak resident memory (getrusage's
ru_maxrss) is that export's alone. Prints both beside each other and the xlsx's peak memory
beside its target. Exit status 1 when the target is missed.
"""

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

from bench.audit_seed import AUDITOR, DEFAULT_DATABASE_URL, ROWS, database_label, django_setup

BASE_DIR = Path(__file__).resolve().parent.parent
# The bound on the xlsx export's peak memory: the whole process, Django and all.
MEMORY_TARGET_MB = 100.0
MB = 1024 * 1024
URLS = {"csv": "/audit/export.csv", "xlsx": "/audit/export.csv?format=xlsx"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--rows", type=int, default=ROWS, help="audit rows to seed and export")
    parser.add_argument("--reseed", action="store_true", help="drop the database and seed afresh")
    parser.add_argument("--child", choices=sorted(URLS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, database_url=args.database_url)

    started = time.perf_counter()
    print(f"== Seeding ({database_label(args.database_url)})", flush=True)
    seed = [sys.executable, "-m", "bench.audit_seed", "--database-url", args.database_url]
    seed += ["--rows", str(args.rows), *(["--reseed"] if args.reseed else [])]
    subprocess.run(seed, check=True, cwd=BASE_DIR)  # noqa: S603

    print(f"\n== Audit export of every row, as an Auditor; load average {_load()}")
    print("Each export runs in a child process of its own: peak memory is that child's ru_maxrss")
    print("(resource.getrusage), the whole process: Python, Django, the database driver.\n")
    figures = {kind: _run_child(kind, database_url=args.database_url) for kind in ("csv", "xlsx")}
    print(f"{'':<6}{'rows':>11}{'time':>10}{'rows/s':>10}{'size':>9}{'first byte':>12}", end="")
    print(f"{'RSS before':>12}{'peak RSS':>10}")
    for kind, figure in figures.items():
        print(
            f"{kind:<6}{figure['rows']:>11,}{figure['seconds']:>9.1f}s"
            f"{figure['rows'] / figure['seconds']:>10,.0f}{figure['bytes'] / MB:>7.0f}MB"
            f"{figure['first_byte_ms']:>10.0f}ms{figure['rss_before_mb']:>10.0f}MB"
            f"{figure['peak_rss_mb']:>8.0f}MB"
        )
    csv, xlsx = figures["csv"], figures["xlsx"]
    print(f"\nxlsx sheets: {', '.join(xlsx['sheets'])}")
    print(
        f"xlsx time {xlsx['seconds']:.1f} s beside CSV {csv['seconds']:.1f} s: "
        f"{xlsx['seconds'] / csv['seconds']:.1f}x (informational; the machine's load moves both)"
    )
    peak = xlsx["peak_rss_mb"]
    verdict = "PASS" if peak <= MEMORY_TARGET_MB else "MISS"
    print(
        f"xlsx peak memory {peak:.0f} MB, {peak - xlsx['rss_before_mb']:+.0f} MB over the process "
        f"before the export (target <= {MEMORY_TARGET_MB:.0f} MB for the whole process) {verdict}"
    )
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s; load average now {_load()}")
    return 0 if verdict == "PASS" else 1


def _run_child(kind: str, *, database_url: str) -> dict:
    command = [sys.executable, "-m", "bench.xlsx_bench", "--child", kind]
    command += ["--database-url", database_url]
    done = subprocess.run(command, check=True, cwd=BASE_DIR, capture_output=True, text=True)  # noqa: S603
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(kind: str, *, database_url: str) -> int:
    """One export, read to its end, its figures printed as one line of JSON."""
    django_setup(database_url=database_url)
    # WhiteNoise warns that collectstatic never ran; the bench fetches no static file.
    warnings.filterwarnings("ignore", message="No directory at")
    from django.contrib.auth.models import User
    from django.test import Client

    from muteadmin.audit.models import AuditEntry

    client = Client()
    client.force_login(User.objects.get(username=AUDITOR))
    rss_before = _status_mb("VmRSS")
    with tempfile.TemporaryFile() as sink:
        begun = time.perf_counter()
        response = client.get(URLS[kind])
        first_byte = None
        size = 0
        for chunk in response.streaming_content:
            if first_byte is None and chunk:
                first_byte = time.perf_counter() - begun
            size += len(chunk)
            sink.write(chunk)
        response.close()
        seconds = time.perf_counter() - begun
        sheets = _sheets(sink) if kind == "xlsx" else []
    # On Linux ru_maxrss is in kilobytes.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    entry = AuditEntry.objects.filter(action="export").latest("id")
    figures = {
        "status": response.status_code,
        "seconds": seconds,
        "first_byte_ms": (first_byte or seconds) * 1000,
        "bytes": size,
        "rows": entry.details.get("rows", 0),
        "outcome": entry.outcome,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak,
        "sheets": sheets,
    }
    print(json.dumps(figures))
    return 0


def _sheets(file) -> list[str]:
    """Each sheet's name and the range its cells cover, read from the sheet's first bytes."""
    file.seek(0)
    found = []
    with zipfile.ZipFile(file) as book:
        for name in sorted(n for n in book.namelist() if n.startswith("xl/worksheets/sheet")):
            with book.open(name) as sheet:
                head = sheet.read(2000).decode()
            match = re.search(r'<dimension ref="([^"]+)"', head)
            found.append(f"{Path(name).stem} {match.group(1) if match else '?'}")
    return found


def _status_mb(name: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
