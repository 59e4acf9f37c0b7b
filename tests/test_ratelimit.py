"""The one cap on Tencent calls: every attempt takes a slot, across threads and processes."""

import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import responses
from django.db import connection
from responses import matchers

from muteadmin.audit.models import AuditEntry
from muteadmin.mutes.services import mute_get
from muteadmin.sandbox.services import sandbox_fault_push
from muteadmin.tencent.apis import Api
from muteadmin.tencent.client import MIN_READ_TIMEOUT, TencentClient
from muteadmin.tencent.errors import TencentRateLimited
from muteadmin.tencent.nospeaking import nospeaking_get
from muteadmin.upstream import ratelimit
from muteadmin.upstream.ratelimit import WINDOW_MS, UpstreamSlotUnavailable, upstream_slot

BASE_URL = "https://console.tim.qq.com"
GET_URL = f"{BASE_URL}/v4/openconfigsvr/getnospeaking"
SDKAPPID = 1400000001
ADMIN = "administrator"
NOT_MUTED = {
    "ActionStatus": "OK",
    "ErrorCode": 0,
    "C2CmsgNospeakingTime": 0,
    "GroupmsgNospeakingTime": 0,
}
SLOT_BUSY = (
    "muteadmin is already sending Tencent as many requests as it allows; "
    "try again in a few seconds."
)
WINDOW = WINDOW_MS / 1000
# Enough to take a free slot; on PostgreSQL a slot is refused, not waited for, while another
# session briefly locks the log (its clean-up, say), so asking with no time at all may fail.
FREE = 0.5


class FakeClock:
    """Monotonic clock and sleep in one, so the client's waits cost no real time."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def client_with(clock: FakeClock, before_attempt) -> TencentClient:
    return TencentClient(
        sdkappid=SDKAPPID,
        secret_key="5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e",
        identifier=ADMIN,
        base_url=BASE_URL,
        clock=clock.time,
        monotonic=clock.time,
        sleep=clock.sleep,
        before_attempt=before_attempt,
    )


def get_stub(rsps, **answer):
    """A getnospeaking answer that matches only our app's query string and alice's body."""

    def admin_query(request):
        query = parse_qs(urlsplit(request.url).query)
        wanted = {"sdkappid": [str(SDKAPPID)], "identifier": [ADMIN], "contenttype": ["json"]}
        ok = all(query.get(name) == value for name, value in wanted.items())
        return ok and "usersig" in query and "random" in query, "not our admin's query string"

    match = [admin_query, matchers.json_params_matcher({"Get_Account": "alice"})]
    return rsps.post(GET_URL, match=match, **answer)


# The client's hook


def test_every_attempt_retries_included_takes_a_slot_first(clock, rsps):
    budgets: list[float] = []
    limited = get_stub(rsps, json={"ErrorCode": 60007, "ErrorInfo": "freq limit"})
    bad_gateway = get_stub(rsps, status=502, body="<html>502 Bad Gateway</html>")
    answered = get_stub(rsps, json=NOT_MUTED)

    status = nospeaking_get(
        client_with(clock, lambda api, seconds: budgets.append(seconds)), "alice"
    )

    assert status.attempts == 3
    assert [limited.call_count, bad_gateway.call_count, answered.call_count] == [1, 1, 1]
    assert len(budgets) == 3
    # Each wait may spend what is left of the 15 s deadline, less what an attempt needs.
    assert budgets[0] == pytest.approx(15.0 - 3.05 - MIN_READ_TIMEOUT)
    assert budgets[0] > budgets[1] > budgets[2] > 0


def test_a_refused_slot_raises_rate_limited_and_sends_nothing(clock, rsps):
    answered = get_stub(rsps, json=NOT_MUTED)

    def refuse(api: Api, seconds: float) -> None:
        raise UpstreamSlotUnavailable(SLOT_BUSY)

    with pytest.raises(TencentRateLimited) as caught:
        nospeaking_get(client_with(clock, refuse), "alice")

    assert answered.call_count == 0
    assert caught.value.moderator_message == SLOT_BUSY


def test_waiting_for_a_slot_counts_against_the_deadline(clock, rsps):
    """A slot granted at the last moment still leaves the attempt inside the 15 s."""
    started = clock.now
    timeouts = []

    def slot_after_the_whole_budget(api: Api, seconds: float) -> None:
        clock.now += seconds

    def answer(request):
        timeouts.append(request.req_kwargs["timeout"])
        return 200, {}, json.dumps(NOT_MUTED)

    rsps.add_callback(
        responses.POST,
        GET_URL,
        callback=answer,
        match=[matchers.json_params_matcher({"Get_Account": "alice"})],
    )

    nospeaking_get(client_with(clock, slot_after_the_whole_budget), "alice")

    (connect, read), = timeouts  # fmt: skip
    assert (clock.now - started) + connect + read == pytest.approx(15.0)
    assert read >= MIN_READ_TIMEOUT


# The limiter itself


@pytest.mark.django_db
def test_slots_beyond_the_limit_are_refused_once_the_timeout_passes(settings):
    settings.TIM_RATE_LIMIT = 3
    for _ in range(3):
        upstream_slot(timeout=FREE)

    started = time.monotonic()
    with pytest.raises(TencentRateLimited) as caught:
        upstream_slot(timeout=0.2)

    assert 0.2 <= time.monotonic() - started < WINDOW
    assert caught.value.moderator_message == SLOT_BUSY
    assert str(caught.value).startswith(SLOT_BUSY)


@pytest.mark.django_db
def test_a_waiting_caller_gets_the_slot_when_the_oldest_leaves_the_window(settings):
    settings.TIM_RATE_LIMIT = 2
    first = time.monotonic()
    upstream_slot(timeout=FREE)
    upstream_slot(timeout=FREE)

    upstream_slot(timeout=5)

    waited = time.monotonic() - first
    assert WINDOW <= waited < WINDOW + 0.5


@pytest.mark.django_db
def test_a_wait_of_minus_one_ms_means_try_again_not_never(settings, monkeypatch):
    # When the call blocking the window left it 2 ms before the check, pyrate-limiter computes a
    # wait of -1 ms, the very value it otherwise uses for "this weight can never fit".
    from pyrate_limiter import AbstractBucket, RateItem

    settings.TIM_RATE_LIMIT = 2
    upstream_slot(timeout=FREE)
    (bucket,) = ratelimit._limiter().buckets()
    monkeypatch.setattr(AbstractBucket, "waiting", lambda self, item: -1)

    assert bucket.waiting(RateItem(ratelimit.SLOT_NAME, 0, weight=1)) == 0
    # A weight above the limit still can never fit.
    assert bucket.waiting(RateItem(ratelimit.SLOT_NAME, 0, weight=3)) == -1


@pytest.mark.django_db
def test_the_limit_follows_the_setting(settings):
    settings.TIM_RATE_LIMIT = 1
    upstream_slot(timeout=FREE)
    with pytest.raises(UpstreamSlotUnavailable):
        upstream_slot(timeout=0)

    settings.TIM_RATE_LIMIT = 2
    upstream_slot(timeout=FREE)


@pytest.mark.django_db
def test_a_lookup_over_the_cap_is_refused_unsent_and_audited(settings, moderator, monkeypatch):
    from muteadmin.sandbox import adapter

    sent = []
    monkeypatch.setattr(adapter.SandboxAdapter, "send", lambda *args, **kwargs: sent.append(1))
    settings.TIM_RATE_LIMIT = 1
    upstream_slot(timeout=FREE)

    # 3.6 s leaves 0.05 s to wait for a slot after keeping room for the attempt.
    with pytest.raises(TencentRateLimited):
        mute_get(account="alice", operator=moderator, deadline=3.6)

    assert sent == []
    entry = AuditEntry.objects.get()
    assert (entry.outcome, entry.error_code, entry.error_info) == ("error", None, SLOT_BUSY)


@pytest.mark.django_db
def test_sandbox_retries_take_slots_too(settings, moderator):
    settings.TIM_RATE_LIMIT = 3
    sandbox_fault_push(kind="http502", count=2)

    assert mute_get(account="alice", operator=moderator).attempts == 3

    with pytest.raises(UpstreamSlotUnavailable):
        upstream_slot(timeout=0)


@pytest.mark.django_db
def test_one_slot_costs_little(settings):
    settings.TIM_RATE_LIMIT = 10_000
    upstream_slot(timeout=5)  # builds the limiter and its connections
    costs = []
    for _ in range(100):
        started = time.perf_counter()
        upstream_slot(timeout=5)
        costs.append(time.perf_counter() - started)
    median_ms = statistics.median(costs) * 1000
    worst_ms = max(costs) * 1000
    print(f"\none slot on {connection.vendor}: median {median_ms:.2f} ms, max {worst_ms:.1f} ms")
    # The target is under 5 ms; the bound leaves room for a loaded test machine.
    assert median_ms < 25


# Across processes

HAMMER = textwrap.dedent(
    """
    import json, sys, threading, time
    import django
    django.setup()
    from muteadmin.upstream.ratelimit import UpstreamSlotUnavailable, upstream_slot

    threads, start_at, stop_at = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    admitted, refused, lock = [], [], threading.Lock()

    def hammer():
        while time.time() < start_at:
            time.sleep(0.005)
        while time.time() < stop_at:
            try:
                upstream_slot(timeout=2.0)
            except UpstreamSlotUnavailable:
                with lock:
                    refused.append(time.time())
                continue
            now = time.time()
            with lock:
                admitted.append(now)

    workers = [threading.Thread(target=hammer) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(json.dumps({"admitted": admitted, "refused": len(refused)}))
    """
)
PROCESSES = 3
THREADS = 4
LIMIT = 20
HAMMER_SECONDS = 2.5
# Long enough for Django to start in every process before the first slot is asked for.
START_DELAY = 4.0


def _database_url(tmp_path: Path) -> str:
    """The database the test's own process uses, as a URL for the hammering processes."""
    if connection.vendor == "sqlite":
        # An in-memory database is private to one process: they share a file instead.
        return f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    params = connection.settings_dict
    credentials = quote(params["USER"] or "", safe="")
    if params["PASSWORD"]:
        credentials += ":" + quote(params["PASSWORD"], safe="")
    host = f"{params['HOST'] or 'localhost'}:{params['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{params['NAME']}"


@pytest.mark.django_db
def test_no_second_holds_more_than_the_limit_across_processes(settings, tmp_path):
    settings.TIM_RATE_LIMIT = LIMIT
    admitted: list[float] = []
    if connection.vendor == "postgresql":
        # This process shares the database's log with the others, so its slot counts too.
        upstream_slot(timeout=FREE)
        admitted.append(time.time())
    start_at = time.time() + START_DELAY
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url(tmp_path),
        "TIM_RATE_LIMIT": str(LIMIT),
    }
    processes = [
        # This interpreter running the script above: nothing from outside reaches the command.
        subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-c",
                HAMMER,
                str(THREADS),
                str(start_at),
                str(start_at + HAMMER_SECONDS),
            ],
            stdout=subprocess.PIPE,
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    refused = 0
    for process in processes:
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        report = json.loads(out)
        admitted += report["admitted"]
        refused += report["refused"]

    admitted.sort()
    # Between the first and the last of any LIMIT + 1 calls, a whole second passes.
    spans = [admitted[i + LIMIT] - admitted[i] for i in range(len(admitted) - LIMIT)]
    calls_per_second = LIMIT / statistics.median(spans)
    print(
        f"\n{connection.vendor}: {len(admitted)} slots, {refused} timed out, shortest span of "
        f"{LIMIT + 1} calls {min(spans) * 1000:.1f} ms, sustained {calls_per_second:.1f}/s"
    )
    assert len(spans) >= 2 * LIMIT
    assert min(spans) >= WINDOW
    # The cap is used, not wasted (the margin each slot is held past a second costs about 3%).
    assert calls_per_second >= 0.9 * LIMIT
