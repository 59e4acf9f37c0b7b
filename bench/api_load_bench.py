"""Requests per second for 20 concurrent API token clients under gunicorn, on the sandbox.

    .venv/bin/python -m bench.api_load_bench [--database-url URL] [--clients 20] [--seconds 10]

Seeds a database of its own, makes one Moderator token (scope `read`) per client, serves the
dashboard with gunicorn (2 workers of 4 threads, as the Dockerfile's command) on a free local port,
and has
each client look up its own account with GET /api/v1/mutes/<account> in a closed loop (the next
request leaves when the last answer is in) for the given time. Prints requests per second, the
latency's median and 95th percentile, and every answer that was not a 200. Each lookup is one call
to the sandbox, under the shared cap of 200 calls a second (TIM_RATE_LIMIT): the ceiling.
"""

import argparse
import http.client
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from bench.audit_seed import database_create, database_label, django_setup

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{BASE_DIR / 'var' / 'bench' / 'api_load.sqlite3'}"
CLIENTS = 20
SECONDS = 10.0
WORKERS = 2
THREADS = 4
STARTUP_SECONDS = 30.0
HOST = "testserver"  # the one host bench.settings serves


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tokens(count: int) -> list[str]:
    from muteadmin.api.tokens import api_token_create

    return [
        api_token_create(
            name=f"load-{n}", scopes=["read"], role="Moderator", days=1, operator=None
        )[1]
        for n in range(count)
    ]


def _serve(*, database_url: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "AUDIT_CHAIN_KEY": os.environ.get("AUDIT_CHAIN_KEY") or secrets.token_urlsafe(48),
        # The bench measures the server, not the per-token limit.
        "API_TOKEN_RATE": "1000000/min",
    }
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "muteadmin.wsgi:application",
        f"--workers={WORKERS}",
        # As the Dockerfile's command serves: threads, and connections kept alive.
        "--worker-class=gthread",
        f"--threads={THREADS}",
        "--keep-alive=5",
        f"--bind=127.0.0.1:{port}",
        "--log-level=warning",
    ]
    return subprocess.Popen(command, cwd=BASE_DIR, env=env)  # noqa: S603


def _ready(port: int) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz", headers={"Host": HOST})
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /healthz in time")


def _sessions(count: int) -> list[str]:
    """A signed-in Moderator's session cookie per client, for the account page."""
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.test import Client

    moderator = User.objects.create_user("load-moderator")
    moderator.groups.set(Group.objects.filter(name="Moderator"))
    cookies = []
    for _ in range(count):
        browser = Client()
        browser.force_login(moderator)
        cookies.append(
            f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
        )
    return cookies


def _client(port: int, request: tuple[str, dict[str, str]], until: float, out: dict) -> None:
    """One closed-loop client on a kept-alive connection; its latencies and statuses in `out`."""
    path, headers = request
    headers = {"Host": HOST, **headers}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except OSError as exc:
            status = type(exc).__name__
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        out["latencies"].append((time.perf_counter() - started) * 1000)
        out["statuses"][status] += 1
    connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args(argv)

    database_create(database_url=args.database_url, drop=True)
    django_setup(database_url=args.database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    tokens = _tokens(args.clients)
    sessions = _sessions(args.clients)
    targets = {
        "API GET /api/v1/mutes/<id>": [
            (f"/api/v1/mutes/load-{n}", {"Authorization": f"Bearer {secret}"})
            for n, secret in enumerate(tokens)
        ],
        "page /mutes/<id>/": [
            (f"/mutes/load-{n}/", {"Cookie": cookie}) for n, cookie in enumerate(sessions)
        ],
    }
    port = _free_port()
    server = _serve(database_url=args.database_url, port=port)
    print(f"database      {database_label(args.database_url)}")
    print(f"gunicorn      {WORKERS} workers x {THREADS} threads, {args.clients} clients each")
    failed = False
    try:
        _ready(port)
        for name, requests in targets.items():
            failed |= _load(name, port=port, requests=requests, seconds=args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 1 if failed else 0


def _load(name: str, *, port: int, requests: list, seconds: float) -> bool:
    """Run the clients against one target and print its figures; whether any answer failed."""
    results = [{"latencies": [], "statuses": Counter()} for _ in requests]
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(target=_client, args=(port, request, until, out))
        for request, out in zip(requests, results, strict=True)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - started
    latencies = sorted(ms for out in results for ms in out["latencies"])
    statuses = sum((out["statuses"] for out in results), Counter())
    ok = statuses.get(200, 0)
    errors = {status: count for status, count in statuses.items() if status != 200}
    p95 = latencies[max(int(len(latencies) * 0.95) - 1, 0)]
    print(
        f"{name:<30} {ok / took:>6.1f} requests/s ({ok} in {took:.1f} s), latency median "
        f"{statistics.median(latencies):.0f} ms, p95 {p95:.0f} ms, not 200: {errors or 'none'}"
    )
    return bool(errors)


if __name__ == "__main__":
    sys.exit(main())
