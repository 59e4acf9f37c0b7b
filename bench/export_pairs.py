"""The CSV export beside psql's dump, in pairs, with the CPU time each side spent.

    .venv/bin/python -m bench.export_pairs --database-url postgres://... [--pairs 5]

`make bench` sets one export against the median of three dumps timed before it; on a shared
machine the load changes between the two and the ratio with it (1.2x to 2.6x for the same code and
data). Here each export follows a dump of its own, and each side's CPU time is read as well: this
process and its database backend for the export, psql and its backend for the dump. CPU time
varies far less with the machine's load than elapsed time does. PostgreSQL only; the database must
be seeded already (bench.audit_seed, or one run of bench.audit_bench).
"""

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from bench.audit_bench import _client, _load, stream_read
from bench.audit_seed import AUDITOR, django_setup

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Side:
    seconds: float
    client_cpu: float
    backend_cpu: float

    @property
    def cpu(self) -> float:
        return self.client_cpu + self.backend_cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args(argv)
    django_setup(database_url=args.database_url)
    warnings.filterwarnings("ignore", message="No directory at")
    from django.db import connection

    from muteadmin.audit.exports import AUDIT_EXPORT_COLUMNS
    from muteadmin.audit.models import AuditEntry

    if connection.vendor != "postgresql":
        print("PostgreSQL only: the dump is psql's \\copy.")
        return 2
    select = f"SELECT {', '.join(AUDIT_EXPORT_COLUMNS)} FROM {AuditEntry._meta.db_table}"  # noqa: S608
    copy = rf"\copy ({select} ORDER BY id DESC) to stdout csv header"
    # One connection throughout, so its backend's CPU can be read before and after each export.
    connection.settings_dict["CONN_MAX_AGE"] = None
    client = _client(AUDITOR)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    print("pair, load, dump s (CPU s psql + backend), export s (CPU s Python + backend), ratios")
    ratios, cpu_ratios = [], []
    for pair in range(args.pairs):
        load = os.getloadavg()[0]
        dump = psql_dump(copy)
        export = app_export(client, backend)
        ratios.append(export.seconds / dump.seconds)
        cpu_ratios.append(export.cpu / dump.cpu)
        print(
            f"{pair + 1:>3} {load:5.2f}  dump {dump.seconds:5.2f} ({dump.client_cpu:.2f} + "
            f"{dump.backend_cpu:.2f})  export {export.seconds:5.2f} ({export.client_cpu:.2f} + "
            f"{export.backend_cpu:.2f})  {ratios[-1]:.2f}x, CPU {cpu_ratios[-1]:.2f}x",
            flush=True,
        )
    print(
        f"median ratio {statistics.median(ratios):.2f}x, median CPU ratio "
        f"{statistics.median(cpu_ratios):.2f}x; load average now {_load()}"
    )
    return 0


def psql_dump(copy: str) -> Side:
    """psql's CSV of the export's columns to a file, its backend's CPU read while it runs."""
    with tempfile.TemporaryDirectory() as folder:
        pid_file = Path(folder) / "pid"
        script = f"\\o {pid_file}\nSELECT pg_backend_pid();\n\\o\n{copy}\n"
        command = ["psql", "-X", "-q", "-t", "-A", os.environ["DATABASE_URL"]]
        before = os.times()
        with (Path(folder) / "dump.csv").open("wb") as sink:
            begun = time.perf_counter()
            psql = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=sink)  # noqa: S603
            psql.stdin.write(script.encode())
            psql.stdin.close()
            backend_cpu = _watched(psql, pid_file)
            seconds = time.perf_counter() - begun
        after = os.times()
    client_cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return Side(seconds, client_cpu, backend_cpu)


def _watched(psql: subprocess.Popen, pid_file: Path) -> float:
    """The CPU time of psql's backend, last read before psql exits (a backend's ends with it)."""
    backend, cpu = None, 0.0
    while psql.poll() is None:
        if backend is None and pid_file.exists():
            text = pid_file.read_text().strip()
            backend = int(text) if text.isdigit() else None
        if backend is not None:
            with contextlib.suppress(OSError):
                cpu = _cpu(backend)
        time.sleep(0.005)
    return cpu


def app_export(client, backend: int) -> Side:
    """/audit/export.csv read to its end, as `make bench` reads it."""
    process, backend_before = time.process_time(), _cpu(backend)
    stream = stream_read(client, "/audit/export.csv")
    return Side(stream.seconds, time.process_time() - process, _cpu(backend) - backend_before)


def _cpu(pid: int) -> float:
    """User and system CPU seconds of a process on this machine, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


if __name__ == "__main__":
    sys.exit(main())
