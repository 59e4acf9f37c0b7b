"""The sandbox emulator, driven through its transport adapter as a Tencent client drives it."""

import dataclasses
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from muteadmin.sandbox.adapter import SANDBOX_BASE_URL, SandboxAdapter
from muteadmin.sandbox.credentials import (
    SANDBOX_SDKAPPID,
    SandboxCredentials,
    emulator_expected_credentials,
    sandbox_credentials,
)
from muteadmin.sandbox.models import SandboxFault, SandboxMute
from muteadmin.sandbox.protocol import PERMANENT, RateLimiter
from muteadmin.sandbox.runtime import SandboxRuntime
from muteadmin.sandbox.services import sandbox_fault_push, sandbox_reset
from muteadmin.tencent.usersig import usersig_decode, usersig_sign
from tests.conftest import FakeClock
from tests.sandbox_fixtures import signed_url, tencent_usersig, usersig_encode

pytestmark = pytest.mark.django_db

GET = "getnospeaking"
SET = "setnospeaking"
START = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


class Caller:
    """A plain requests.Session with the sandbox adapter mounted, signing as the admin."""

    def __init__(self, clock: FakeClock, runtime: SandboxRuntime | None) -> None:
        self.clock = clock
        self.runtime = runtime
        self.session = _sandbox_session(SandboxAdapter(runtime=runtime))
        self.credentials = sandbox_credentials()

    def url(self, command: str, **overrides: str | None) -> str:
        return signed_url(
            SANDBOX_BASE_URL,
            command,
            credentials=self.credentials,
            time=int(self.clock.time()),
            **overrides,
        )

    def post(self, command: str, body: dict | bytes, **overrides: str | None) -> requests.Response:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.session.post(
            self.url(command, **overrides),
            data=data,
            headers={"Content-Type": "application/json"},
            timeout=(3.05, 5.0),
        )

    def mute_set(self, account: str, **times: int) -> dict:
        body = {"Set_Account": account}
        if "c2c" in times:
            body["C2CmsgNospeakingTime"] = times["c2c"]
        if "group" in times:
            body["GroupmsgNospeakingTime"] = times["group"]
        payload = self.post(SET, body).json()
        assert payload["ErrorCode"] == 0, payload
        return payload

    def mute_get(self, account: str) -> tuple[int, int]:
        payload = self.post(GET, {"Get_Account": account}).json()
        assert payload["ErrorCode"] == 0, payload
        return payload["C2CmsgNospeakingTime"], payload["GroupmsgNospeakingTime"]


def _sandbox_session(sandbox_adapter: SandboxAdapter) -> requests.Session:
    session = requests.Session()
    session.mount(SANDBOX_BASE_URL, sandbox_adapter)
    return session


@pytest.fixture(autouse=True)
def fresh_sandbox():
    sandbox_reset()
    yield
    sandbox_reset()


@pytest.fixture(autouse=True)
def start(clock) -> None:
    clock.set(START)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def runtime(clock, sleeps) -> SandboxRuntime:
    """The emulator on the test's clock, recording its waits instead of sleeping them."""
    return SandboxRuntime(clock=clock, sleep=sleeps.append)


@pytest.fixture
def caller(clock, runtime) -> Caller:
    return Caller(clock, runtime)


def _capped_caller(clock: FakeClock, runtime: SandboxRuntime, limit: int) -> Caller:
    """A caller whose emulator admits `limit` calls a second instead of 200."""
    return Caller(clock, dataclasses.replace(runtime, rate_limiter=RateLimiter(limit=limit)))


# --- mutes: set, read back, run down ----------------------------------------------------------


def test_set_then_get_reads_back_seconds_that_run_down(caller, clock):
    caller.mute_set("lumotuwe", c2c=7200, group=600)
    assert caller.mute_get("lumotuwe") == (7200, 600)

    clock.advance(4)
    assert caller.mute_get("lumotuwe") == (7196, 596)

    # Part of a second left still counts as a second: 0 only once the mute is really over.
    clock.advance(0.5)
    assert caller.mute_get("lumotuwe") == (7196, 596)


def test_mute_expires_by_itself(caller, clock):
    caller.mute_set("spammer", c2c=60, group=90)
    clock.advance(59.5)
    assert caller.mute_get("spammer") == (1, 31)

    clock.advance(0.5)
    assert caller.mute_get("spammer") == (0, 30)

    clock.advance(3600)
    assert caller.mute_get("spammer") == (0, 0)


def test_permanent_mute_never_runs_down(caller, clock):
    caller.mute_set("troll", c2c=PERMANENT, group=PERMANENT)
    clock.advance(10 * 365 * 86400)
    assert caller.mute_get("troll") == (PERMANENT, PERMANENT)


def test_zero_lifts_a_mute(caller, clock):
    caller.mute_set("reformed", c2c=PERMANENT, group=3600)
    caller.mute_set("reformed", c2c=0)
    assert caller.mute_get("reformed") == (0, 3600)

    caller.mute_set("reformed", group=0)
    assert caller.mute_get("reformed") == (0, 0)


def test_omitted_field_leaves_that_mute_alone(caller, clock):
    caller.mute_set("alice", c2c=PERMANENT, group=300)
    clock.advance(100)

    caller.mute_set("alice", c2c=50)
    assert caller.mute_get("alice") == (50, 200)

    caller.mute_set("alice", group=PERMANENT)
    assert caller.mute_get("alice") == (50, PERMANENT)


def test_new_mute_replaces_the_running_one(caller, clock):
    caller.mute_set("bob", c2c=7200)
    clock.advance(1000)
    caller.mute_set("bob", c2c=60)
    assert caller.mute_get("bob") == (60, 0)


def test_account_never_seen_reads_as_not_muted(caller):
    # The real service may answer 70107 (account not imported) instead: the emulator has no
    # account list, so it answers like an imported account that was never muted.
    assert caller.mute_get("nobody-ever") == (0, 0)


def test_mutes_of_different_accounts_are_separate(caller):
    caller.mute_set("one", c2c=100)
    assert caller.mute_get("two") == (0, 0)


def test_success_is_errorcode_zero_with_empty_errorinfo(caller):
    response = caller.post(SET, {"Set_Account": "carol", "C2CmsgNospeakingTime": 60})
    assert response.status_code == 200
    assert response.json() == {"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": ""}

    response = caller.post(GET, {"Get_Account": "carol"})
    assert response.json() == {
        "ActionStatus": "OK",
        "ErrorCode": 0,
        "ErrorInfo": "",
        "C2CmsgNospeakingTime": 60,
        "GroupmsgNospeakingTime": 0,
    }


def test_answer_is_a_real_requests_response(caller):
    url = caller.url(GET)
    response = caller.session.post(url, json={"Get_Account": "dave"}, timeout=5)
    assert isinstance(response, requests.Response)
    assert response.headers["Content-Type"] == "application/json"
    assert response.url == url
    assert response.request.url == url
    assert response.encoding == "utf-8"
    assert response.ok
    assert json.loads(response.text)["ErrorCode"] == 0


def test_state_lives_in_the_database_for_every_adapter(caller, clock, runtime):
    caller.mute_set("persisted", c2c=3600, group=PERMANENT)

    # A new session and adapter, as another worker process or a restart would have.
    other = Caller(clock, runtime)
    assert other.mute_get("persisted") == (3600, PERMANENT)
    row = SandboxMute.objects.get(account="persisted")
    assert row.sdkappid == SANDBOX_SDKAPPID
    assert row.c2c_until == START + timedelta(seconds=3600)
    assert row.group_permanent


# --- request body errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "body", "code"),
    [
        (GET, b'{"Get_Account": ', 130001),
        (GET, b"", 130001),
        (GET, b'["lumotuwe"]', 130001),
        (GET, b'{"Get_Account": NaN}', 130001),
        (GET, b"\xff\xfe", 130001),
        (GET, {}, 130002),
        (GET, {"get_account": "lumotuwe"}, 130002),
        (GET, {"Get_Account": 12345}, 130003),
        (GET, {"Get_Account": None}, 130003),
        (GET, {"Get_Account": ""}, 130003),
        (GET, {"Get_Account": "x" * 33}, 130003),
        (SET, b"Set_Account=lumotuwe", 130001),
        (SET, {"C2CmsgNospeakingTime": 60}, 130004),
        (SET, {"Set_Account": 12345, "C2CmsgNospeakingTime": 60}, 130005),
        (SET, {"Set_Account": "", "C2CmsgNospeakingTime": 60}, 130005),
        (SET, {"Set_Account": "x" * 33, "C2CmsgNospeakingTime": 60}, 130005),
        (SET, {"Set_Account": "a", "C2CmsgNospeakingTime": "60"}, 130006),
        (SET, {"Set_Account": "a", "C2CmsgNospeakingTime": 1.5}, 130006),
        (SET, {"Set_Account": "a", "C2CmsgNospeakingTime": True}, 130006),
        (SET, {"Set_Account": "a", "C2CmsgNospeakingTime": None}, 130006),
        (SET, {"Set_Account": "a", "C2CmsgNospeakingTime": -1}, 130006),
        (SET, {"Set_Account": "a", "C2CmsgNospeakingTime": PERMANENT + 1}, 130006),
        (SET, {"Set_Account": "a", "GroupmsgNospeakingTime": "60"}, 130007),
        (SET, {"Set_Account": "a", "GroupmsgNospeakingTime": -1}, 130007),
        (SET, {"Set_Account": "a", "GroupmsgNospeakingTime": PERMANENT + 1}, 130007),
        (SET, {"Set_Account": "a"}, 130008),
    ],
)
def test_body_errors_answer_http_200_with_their_code(caller, command, body, code):
    response = caller.post(command, body)
    assert response.status_code == 200
    payload = response.json()
    assert payload["ErrorCode"] == code
    assert payload["ActionStatus"] == "FAIL"
    assert payload["ErrorInfo"]
    assert "C2CmsgNospeakingTime" not in payload


def test_rejected_set_changes_neither_mute(caller):
    caller.mute_set("erin", c2c=100, group=200)
    body = {"Set_Account": "erin", "C2CmsgNospeakingTime": 0, "GroupmsgNospeakingTime": -5}
    assert caller.post(SET, body).json()["ErrorCode"] == 130007
    assert caller.mute_get("erin") == (100, 200)


def test_account_of_32_bytes_is_accepted(caller):
    caller.mute_set("x" * 32, group=10)
    assert caller.mute_get("x" * 32) == (0, 10)


# --- URL and signature errors -------------------------------------------------------------------


class Sig:
    """A UserSig to sign at test time: the admin's, with some claims changed."""

    def __init__(self, *, age: int = 0, **claims: object) -> None:
        self.age = age
        self.claims = claims

    def sign(self, clock: FakeClock) -> str:
        credentials = sandbox_credentials()
        values = {
            "secret_key": credentials.secret_key,
            "identifier": credentials.identifier,
            "sdkappid": credentials.sdkappid,
            "time": int(clock.time()) - self.age,
            "expire": 86400,
        }
        values.update(self.claims)
        return usersig_sign(**values)


class Wrapped:
    """A UserSig wrapping an arbitrary JSON document: the admin's claims, some replaced."""

    def __init__(self, document: object = None, **claims: object) -> None:
        self.document = document
        self.claims = claims

    def sign(self, clock: FakeClock) -> str:
        if self.document is not None:
            return usersig_encode(self.document)
        claims = {
            "TLS.ver": "2.0",
            "TLS.identifier": sandbox_credentials().identifier,
            "TLS.sdkappid": SANDBOX_SDKAPPID,
            "TLS.expire": 86400,
            "TLS.time": int(clock.time()),
            "TLS.sig": Sig().sign(clock),
        }
        for name, value in self.claims.items():
            claims[f"TLS.{name}"] = value
        return usersig_encode({k: v for k, v in claims.items() if v is not None})


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        pytest.param({"usersig": ""}, 70002, id="usersig empty"),
        pytest.param({"usersig": None}, 70002, id="usersig missing"),
        pytest.param({"usersig": "not!a!usersig"}, 70003, id="usersig not base64"),
        pytest.param({"usersig": "bm90IHpsaWI_"}, 70003, id="usersig not zlib"),
        pytest.param({"usersig": Wrapped(["TLS.sig"])}, 70003, id="usersig not an object"),
        pytest.param({"usersig": Wrapped(sig=None)}, 70003, id="usersig without TLS.sig"),
        pytest.param({"usersig": Wrapped(time="soon")}, 70003, id="usersig time not a number"),
        pytest.param({"usersig": Wrapped(identifier=7)}, 70003, id="usersig identifier number"),
        pytest.param({"usersig": Wrapped(ver="1.0")}, 70003, id="usersig of another version"),
        pytest.param({"usersig": Sig(age=100, expire=99)}, 70001, id="usersig expired"),
        pytest.param({"usersig": Sig(secret_key="0" * 64)}, 70009, id="usersig from another key"),
        pytest.param({"usersig": Sig(identifier="someone")}, 70013, id="usersig for someone else"),
        pytest.param({"usersig": Sig(sdkappid=1400000001)}, 70014, id="usersig for another app"),
        pytest.param(
            {"sdkappid": "1400000001", "usersig": Sig(sdkappid=1400000001)},
            70020,
            id="SDKAppID unknown in this data centre",
        ),
        pytest.param({"sdkappid": None}, 60012, id="SDKAppID missing"),
        pytest.param({"sdkappid": ""}, 60012, id="SDKAppID empty"),
        pytest.param({"sdkappid": "14e8"}, 60006, id="SDKAppID not a number"),
        pytest.param(
            {"identifier": "alice", "usersig": Sig(identifier="alice")},
            60010,
            id="identifier not an admin",
        ),
        pytest.param({"identifier": None}, 60004, id="identifier missing"),
        pytest.param({"random": None}, 60002, id="random missing"),
        pytest.param({"random": "abc"}, 60002, id="random not a number"),
        pytest.param({"random": "-1"}, 60002, id="random negative"),
        pytest.param({"random": str(2**32)}, 60002, id="random above 32 bits"),
        pytest.param({"contenttype": None}, 60002, id="contenttype missing"),
        pytest.param({"contenttype": "xml"}, 60002, id="contenttype not json"),
    ],
)
def test_url_and_signature_errors_answer_http_200_with_their_code(caller, clock, overrides, code):
    resolved = {
        name: value.sign(clock) if isinstance(value, Sig | Wrapped) else value
        for name, value in overrides.items()
    }
    response = caller.post(GET, {"Get_Account": "lumotuwe"}, **resolved)
    assert response.status_code == 200
    assert response.json()["ErrorCode"] == code
    assert response.json()["ActionStatus"] == "FAIL"
    assert response.json()["ErrorInfo"]


def test_usersig_for_a_non_admin_from_another_key_is_a_signature_error(caller, clock):
    usersig = Sig(identifier="alice", secret_key="0" * 64).sign(clock)
    response = caller.post(GET, {"Get_Account": "a"}, identifier="alice", usersig=usersig)
    assert response.json()["ErrorCode"] == 70009


def test_usersig_valid_until_its_last_second(caller, clock):
    usersig = Sig(age=100, expire=100).sign(clock)
    response = caller.post(GET, {"Get_Account": "a"}, usersig=usersig)
    assert response.json()["ErrorCode"] == 0


@pytest.mark.parametrize(
    "path", ["/v4/openconfigsvr/nosuchcommand", "/v4/profile/portrait_get", "/v3/openconfigsvr/x"]
)
def test_unknown_service_or_command_answers_60009(caller, clock, path):
    url = caller.url(GET).replace("/v4/openconfigsvr/getnospeaking", path)
    response = caller.session.post(url, json={"Get_Account": "a"}, timeout=5)
    assert response.status_code == 200
    assert response.json()["ErrorCode"] == 60009


def test_only_post_is_accepted(caller):
    response = caller.session.get(caller.url(GET), timeout=5)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert response.json()["ErrorCode"] == 60008


def test_usersig_spacing_and_key_order_do_not_matter(caller, clock):
    credentials = sandbox_credentials()
    spaced = tencent_usersig(
        secret_key=credentials.secret_key,
        identifier=credentials.identifier,
        sdkappid=credentials.sdkappid,
        time=int(clock.time()),
        expire=86400,
    )
    compact = Sig().sign(clock)
    signature = usersig_decode(compact)["TLS.sig"]
    reordered = usersig_encode(
        {
            "TLS.sig": signature,
            "TLS.time": int(clock.time()),
            "TLS.expire": 86400,
            # Some generators write the SDKAppID as a string.
            "TLS.sdkappid": str(credentials.sdkappid),
            "TLS.identifier": credentials.identifier,
            "TLS.ver": "2.0",
        }
    )
    for usersig in (spaced, compact, reordered):
        response = caller.post(GET, {"Get_Account": "a"}, usersig=usersig)
        assert response.json()["ErrorCode"] == 0


# --- rate cap -----------------------------------------------------------------------------------


def test_calls_above_the_cap_answer_60007_until_the_window_slides(clock, runtime):
    caller = _capped_caller(clock, runtime, limit=3)
    for _ in range(3):
        assert caller.post(GET, {"Get_Account": "a"}).json()["ErrorCode"] == 0
        clock.advance(0.25)

    refused = caller.post(GET, {"Get_Account": "a"})
    assert refused.status_code == 200
    assert refused.json()["ErrorCode"] == 60007

    # One second after the first call it leaves the window, freeing one slot.
    clock.advance(0.25)
    assert caller.post(GET, {"Get_Account": "a"}).json()["ErrorCode"] == 0
    assert caller.post(GET, {"Get_Account": "a"}).json()["ErrorCode"] == 60007


def test_cap_counts_each_command_separately(clock, runtime):
    caller = _capped_caller(clock, runtime, limit=1)
    assert caller.post(GET, {"Get_Account": "a"}).json()["ErrorCode"] == 0
    assert (
        caller.post(SET, {"Set_Account": "a", "C2CmsgNospeakingTime": 1}).json()["ErrorCode"] == 0
    )
    assert caller.post(GET, {"Get_Account": "a"}).json()["ErrorCode"] == 60007


def test_refused_calls_change_nothing(caller, clock, runtime):
    limited = _capped_caller(clock, runtime, limit=1)
    limited.mute_set("frank", group=60)
    body = {"Set_Account": "frank", "GroupmsgNospeakingTime": 0}
    assert limited.post(SET, body).json()["ErrorCode"] == 60007
    assert caller.mute_get("frank") == (0, 60)


def test_default_cap_is_200_calls_per_second(caller):
    codes = [caller.post(GET, {"Get_Account": "a"}).json()["ErrorCode"] for _ in range(201)]
    assert codes == [0] * 200 + [60007]


def test_rate_limiter_admits_exactly_the_cap_across_threads():
    limiter = RateLimiter(limit=50)
    admitted: list[bool] = []
    lock = threading.Lock()

    def hammer() -> None:
        results = [limiter.admit("key", START) for _ in range(100)]
        with lock:
            admitted.extend(results)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(True) == 50


# --- faults -------------------------------------------------------------------------------------


def test_timeout_fault_raises_read_timeout_without_the_usersig(caller):
    sandbox_fault_push(kind="timeout")
    url = caller.url(SET)
    usersig = url.split("usersig=")[1].split("&")[0]
    with pytest.raises(requests.exceptions.ReadTimeout) as raised:
        caller.session.post(url, json={"Set_Account": "g", "C2CmsgNospeakingTime": 60}, timeout=5)
    assert usersig not in str(raised.value)
    assert usersig not in repr(raised.value)
    assert "usersig=[redacted]" in str(raised.value)
    # The call never reached the emulator: the mute was not set.
    assert caller.mute_get("g") == (0, 0)


def test_refused_fault_raises_connection_error_without_the_usersig(caller):
    sandbox_fault_push(kind="refused")
    url = caller.url(GET)
    usersig = url.split("usersig=")[1].split("&")[0]
    with pytest.raises(requests.exceptions.ConnectionError) as raised:
        caller.session.post(url, json={"Get_Account": "a"}, timeout=5)
    assert not isinstance(raised.value, requests.exceptions.Timeout)
    assert usersig not in str(raised.value)


def test_http502_fault_answers_an_html_gateway_page(caller):
    sandbox_fault_push(kind="http502")
    response = caller.post(GET, {"Get_Account": "a"})
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert "502 Bad Gateway" in response.text
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()


def test_badjson_fault_answers_200_with_truncated_json(caller):
    sandbox_fault_push(kind="badjson")
    response = caller.post(GET, {"Get_Account": "a"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()


def test_error_fault_answers_200_with_that_errorcode(caller):
    sandbox_fault_push(kind="error", code=130014)
    response = caller.post(SET, {"Set_Account": "h", "C2CmsgNospeakingTime": 60})
    assert response.status_code == 200
    assert response.json()["ErrorCode"] == 130014
    assert response.json()["ActionStatus"] == "FAIL"
    assert caller.mute_get("h") == (0, 0)


def test_faults_fire_one_per_call_oldest_first(caller):
    sandbox_fault_push(kind="error", code=70107)
    sandbox_fault_push(kind="http502", count=2)
    sandbox_fault_push(kind="error", code=60007)

    statuses = []
    for _ in range(5):
        response = caller.post(GET, {"Get_Account": "a"})
        code = response.json()["ErrorCode"] if response.status_code == 200 else None
        statuses.append((response.status_code, code))
    assert statuses == [(200, 70107), (502, None), (502, None), (200, 60007), (200, 0)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "meteor"}, "Unknown fault kind"),
        ({"kind": "error"}, "needs a positive ErrorCode"),
        ({"kind": "error", "code": 0}, "needs a positive ErrorCode"),
        ({"kind": "http502", "code": 130014}, "Only error faults"),
        ({"kind": "timeout", "count": 0}, "count must be"),
    ],
)
def test_fault_push_rejects_nonsense(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sandbox_fault_push(**kwargs)
    assert not SandboxFault.objects.exists()


def test_sandbox_fault_command_queues_and_clears(caller, capsys):
    call_command("sandbox_fault", "error", "--code", "130014", "--count", "2")
    out = capsys.readouterr().out
    assert "Queued 2 faults" in out
    assert "130014" in out
    assert "2 now waiting" in out

    assert caller.post(GET, {"Get_Account": "a"}).json()["ErrorCode"] == 130014

    call_command("sandbox_fault", "--clear")
    assert "Cleared 1 queued fault." in capsys.readouterr().out
    assert caller.post(GET, {"Get_Account": "a"}).json()["ErrorCode"] == 0


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["error"],
        ["http502", "--code", "5"],
        ["timeout", "--clear"],
        ["timeout", "--count", "0"],
    ],
)
def test_sandbox_fault_command_explains_mistakes(args):
    with pytest.raises(CommandError):
        call_command("sandbox_fault", *args)
    assert not SandboxFault.objects.exists()


def test_sandbox_reset_forgets_mutes_faults_and_calls(clock, runtime, settings):
    # The runtime in force, which adapters built without one use and the reset clears.
    settings.TIM_SANDBOX_RUNTIME = _capped_caller(clock, runtime, limit=1).runtime
    caller = Caller(clock, runtime=None)
    caller.mute_set("ivan", c2c=PERMANENT)
    sandbox_fault_push(kind="timeout")

    sandbox_reset()

    # Without the reset this set would time out, then be refused by the cap.
    caller.mute_set("ivan", group=5)
    assert caller.mute_get("ivan") == (0, 5)


# --- latency ------------------------------------------------------------------------------------


def test_latency_setting_is_slept_on_every_call(caller, settings, sleeps):
    settings.TIM_SANDBOX_LATENCY_MS = 250
    caller.post(GET, {"Get_Account": "a"})
    # Read at call time, not when the adapter was built.
    settings.TIM_SANDBOX_LATENCY_MS = 40
    caller.post(GET, {"Get_Account": "a"})
    settings.TIM_SANDBOX_LATENCY_MS = 0
    caller.post(GET, {"Get_Account": "a"})
    assert sleeps == [0.25, 0.04]


def test_latency_beyond_the_read_timeout_times_out(caller, settings, sleeps):
    settings.TIM_SANDBOX_LATENCY_MS = 8000
    with pytest.raises(requests.exceptions.ReadTimeout):
        caller.post(SET, {"Set_Account": "j", "C2CmsgNospeakingTime": 60})
    assert sleeps == [5.0]
    settings.TIM_SANDBOX_LATENCY_MS = 0
    assert caller.mute_get("j") == (0, 0)


# --- credentials --------------------------------------------------------------------------------


def test_sandbox_key_is_derived_from_secret_key_but_never_equal(settings):
    first = sandbox_credentials()
    assert first == sandbox_credentials()
    assert first.secret_key != settings.SECRET_KEY
    assert len(first.secret_key) == 64
    assert first.secret_key not in repr(first)
    assert first.sdkappid == SANDBOX_SDKAPPID

    settings.SECRET_KEY = "another-deployment-secret-key-of-enough-length-0123456789"
    assert sandbox_credentials().secret_key != first.secret_key


def test_sandbox_admin_is_the_configured_identifier(settings):
    settings.TIM_ADMIN_IDENTIFIER = "ops_admin"
    assert sandbox_credentials().identifier == "ops_admin"


def test_emulator_expects_the_tencent_settings_when_set(settings):
    assert emulator_expected_credentials() == sandbox_credentials()

    settings.TIM_SDKAPPID = 1400123456
    settings.TIM_SECRET_KEY = "k" * 64
    settings.TIM_ADMIN_IDENTIFIER = "administrator"
    assert emulator_expected_credentials() == SandboxCredentials(
        sdkappid=1400123456, secret_key="k" * 64, identifier="administrator"
    )

    settings.TIM_SECRET_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="TIM_SECRET_KEY"):
        emulator_expected_credentials()
