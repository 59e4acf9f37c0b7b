"""Time the API lookup's server work over the Tencent call it makes, beside the account page's.

    .venv/bin/python -m bench.api_bench [--database-url URL] [--repeat N]

`GET /api/v1/mutes/<account>` with a Moderator token and the account page as a signed-in
Moderator each ask Tencent (the sandbox at 0 ms) for the account's mutes and audit that call.
The call alone (client and in-process emulator) is timed too; each figure over it is that
endpoint's own server time. Target: the API's time over the call no more than the page's.
"""

import argparse
import statistics
import sys
import time

from bench.account_bench import (
    ACCOUNT,
    PACE_SECONDS,
    REPEAT,
    WINDOW_SECONDS,
    seeded_moderator,
)
from bench.account_bench import DEFAULT_DATABASE_URL as ACCOUNT_DATABASE_URL
from bench.audit_seed import database_label

DEFAULT_DATABASE_URL = ACCOUNT_DATABASE_URL.replace("account.sqlite3", "api.sqlite3")


def _interleaved(actions: dict, *, repeat: int) -> dict[str, list[float]]:
    """Each action's times in ms, the actions taken in turn, so a busy moment of a shared
    machine (or a database grown by the other's audit rows) falls on all of them alike."""
    for action in actions.values():
        action()  # warm-up: connections, templates, the client's UserSig
    time.sleep(WINDOW_SECONDS)
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeat):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            took = time.perf_counter() - started
            times[name].append(took * 1000)
            time.sleep(max(PACE_SECONDS - took, 0))
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--repeat", type=int, default=REPEAT)
    args = parser.parse_args(argv)

    moderator = seeded_moderator(database_url=args.database_url)
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from muteadmin.api.tokens import api_token_create
    from muteadmin.tencent.nospeaking import nospeaking_get
    from muteadmin.upstream.clients import tim_client

    # The bench measures work, not the per-token limit: room for every timed request.
    settings.API_TOKEN_RATE = "100000/min"  # noqa: S105 - a rate, not a secret
    _, secret = api_token_create(
        name="bench", scopes=["read"], role="Moderator", days=1, operator=None
    )
    browser = Client()
    browser.force_login(moderator)
    bot = Client(headers={"Authorization": f"Bearer {secret}"})
    page_url = reverse("mutes:account", kwargs={"account": ACCOUNT})
    api_url = reverse("api:mute", kwargs={"account": ACCOUNT})

    def page() -> None:
        response = browser.get(page_url)
        if response.status_code != 200:
            raise SystemExit(f"the account page answered {response.status_code}")

    def api() -> None:
        response = bot.get(api_url)
        if response.status_code != 200:
            raise SystemExit(f"the API answered {response.status_code}: {response.content!r}")

    def call() -> None:
        nospeaking_get(tim_client(), ACCOUNT)

    timed = _interleaved({"api": api, "page": page, "call": call}, repeat=args.repeat)
    api_ms, page_ms, call_ms = (statistics.median(timed[name]) for name in ("api", "page", "call"))
    api_over, page_over = api_ms - call_ms, page_ms - call_ms
    met = api_over <= page_over
    print(f"database      {database_label(args.database_url)}, {args.repeat} requests each")
    print(f"{'figure':<38}{'median ms':>10}")
    print(f"{'API lookup (GET /api/v1/mutes/..)':<38}{api_ms:>10.1f}")
    print(f"{'account page (/mutes/../)':<38}{page_ms:>10.1f}")
    print(f"{'client + emulator call':<38}{call_ms:>10.1f}")
    print(f"{'API over the call':<38}{api_over:>10.1f}")
    print(f"{'page over the call':<38}{page_over:>10.1f}  API <= page: {'PASS' if met else 'MISS'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
