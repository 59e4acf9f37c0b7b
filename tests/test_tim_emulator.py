"""The emulator's HTTP face: its view through Django's test client, and `manage.py tim_emulator`."""

import json
import logging
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

from muteadmin.sandbox import server as server_module
from muteadmin.sandbox.credentials import SandboxCredentials, sandbox_credentials
from muteadmin.sandbox.management.commands.tim_emulator import Command
from muteadmin.sandbox.protocol import PERMANENT, RateLimiter
from muteadmin.sandbox.runtime import SandboxRuntime
from muteadmin.sandbox.services import sandbox_fault_push, sandbox_reset
from muteadmin.sandbox.views import EmulatorHangUp
from muteadmin.tencent.client import TencentClient
from muteadmin.tencent.nospeaking import nospeaking_get, nospeaking_set
from tests.sandbox_fixtures import signed_url, tencent_usersig

GET = "getnospeaking"
SET = "setnospeaking"
LOGGER = server_module.__name__
# Kept short so a "timeout" fault's held request does not slow the suite.
HELD_SECONDS = 1.0


def _url(command: str, base_url: str = "", **overrides: str | None) -> str:
    return signed_url(
        base_url, command, credentials=sandbox_credentials(), time=int(time.time()), **overrides
    )


# --- the view, through Django's test client -----------------------------------------------------


@pytest.fixture
def sleeps(settings) -> list[float]:
    """The emulator's waits, recorded instead of slept."""
    recorded: list[float] = []
    settings.TIM_SANDBOX_RUNTIME = SandboxRuntime(sleep=recorded.append)
    return recorded


@pytest.fixture
def emulator(client, db, sleeps):
    """Django's test client on the emulator's own URLconf, as `tim_emulator` serves it."""
    sandbox_reset()
    return client


pytestmark = pytest.mark.urls("muteadmin.sandbox.urls")


def _post(client, url: str, body: dict):
    return client.post(url, body, content_type="application/json")


def test_usersig_made_by_tencents_own_generator_is_accepted(emulator):
    credentials = sandbox_credentials()
    usersig = tencent_usersig(
        secret_key=credentials.secret_key,
        identifier=credentials.identifier,
        sdkappid=credentials.sdkappid,
        time=int(time.time()),
        expire=180 * 86400,
    )
    set_answer = _post(
        emulator,
        _url(SET, usersig=usersig),
        {"Set_Account": "lumotuwe", "C2CmsgNospeakingTime": PERMANENT},
    )
    assert set_answer.status_code == 200
    assert set_answer.json()["ErrorCode"] == 0

    get_answer = _post(emulator, _url(GET, usersig=usersig), {"Get_Account": "lumotuwe"})
    assert get_answer.headers["Content-Type"] == "application/json"
    assert get_answer.json() == {
        "ActionStatus": "OK",
        "ErrorCode": 0,
        "ErrorInfo": "",
        "C2CmsgNospeakingTime": PERMANENT,
        "GroupmsgNospeakingTime": 0,
    }


def test_mute_set_over_http_runs_down_and_is_seen_by_the_in_process_sandbox(emulator):
    from muteadmin.sandbox.adapter import SANDBOX_BASE_URL, SandboxAdapter

    body = {"Set_Account": "shared", "GroupmsgNospeakingTime": 7200}
    assert _post(emulator, _url(SET), body).json()["ErrorCode"] == 0
    remaining = _post(emulator, _url(GET), {"Get_Account": "shared"}).json()
    assert 7199 <= remaining["GroupmsgNospeakingTime"] <= 7200

    session = requests.Session()
    session.mount(SANDBOX_BASE_URL, SandboxAdapter())
    in_process = session.post(
        _url(GET, SANDBOX_BASE_URL), json={"Get_Account": "shared"}, timeout=5
    ).json()
    assert 7199 <= in_process["GroupmsgNospeakingTime"] <= 7200


def test_application_errors_are_http_200(emulator):
    wrong_key = tencent_usersig(
        secret_key="0" * 64,
        identifier=sandbox_credentials().identifier,
        sdkappid=sandbox_credentials().sdkappid,
        time=int(time.time()),
        expire=86400,
    )
    answer = _post(emulator, _url(GET, usersig=wrong_key), {"Get_Account": "a"})
    assert answer.status_code == 200
    assert answer.json()["ErrorCode"] == 70009

    bad_body = emulator.post(_url(SET), b"{", content_type="application/json")
    assert bad_body.status_code == 200
    assert bad_body.json()["ErrorCode"] == 130001


def test_get_is_refused_with_405(emulator):
    answer = emulator.get(_url(GET))
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"
    assert answer.json()["ErrorCode"] == 60008


def test_unknown_path_answers_60009(emulator):
    answer = _post(emulator, _url(GET).replace("/v4/", "/v3/"), {"Get_Account": "a"})
    assert answer.status_code == 200
    assert answer.json()["ErrorCode"] == 60009


def test_oversized_body_is_refused_unread(emulator):
    body = json.dumps({"Get_Account": "a", "pad": "x" * 70_000}).encode()
    answer = emulator.post(_url(GET), body, content_type="application/json")
    assert answer.status_code == 413


def test_faults_queued_elsewhere_reach_http_clients(emulator):
    sandbox_fault_push(kind="http502")
    sandbox_fault_push(kind="badjson")
    sandbox_fault_push(kind="error", code=60007)

    gateway = _post(emulator, _url(GET), {"Get_Account": "a"})
    assert gateway.status_code == 502
    assert b"Bad Gateway" in gateway.content

    truncated = _post(emulator, _url(GET), {"Get_Account": "a"})
    assert truncated.status_code == 200
    with pytest.raises(ValueError):
        truncated.json()

    assert _post(emulator, _url(GET), {"Get_Account": "a"}).json()["ErrorCode"] == 60007
    assert _post(emulator, _url(GET), {"Get_Account": "a"}).json()["ErrorCode"] == 0


def test_refused_fault_hangs_up_at_once(emulator, sleeps):
    sandbox_fault_push(kind="refused")
    with pytest.raises(EmulatorHangUp):
        _post(emulator, _url(GET), {"Get_Account": "a"})
    assert sleeps == []
    assert _post(emulator, _url(GET), {"Get_Account": "a"}).json()["ErrorCode"] == 0


def test_timeout_fault_holds_the_request_then_hangs_up(emulator, sleeps):
    sandbox_fault_push(kind="timeout")
    with pytest.raises(EmulatorHangUp):
        _post(emulator, _url(SET), {"Set_Account": "g", "C2CmsgNospeakingTime": 60})
    assert sleeps == [SandboxRuntime().hold_seconds]
    assert _post(emulator, _url(GET), {"Get_Account": "g"}).json()["C2CmsgNospeakingTime"] == 0


def test_latency_setting_is_waited_on_every_call(emulator, settings, sleeps):
    settings.TIM_SANDBOX_LATENCY_MS = 250
    _post(emulator, _url(GET), {"Get_Account": "a"})
    assert sleeps == [0.25]


def test_calls_above_the_cap_answer_60007(emulator, settings):
    settings.TIM_SANDBOX_RUNTIME = SandboxRuntime(rate_limiter=RateLimiter(limit=2))
    codes = [_post(emulator, _url(GET), {"Get_Account": "a"}).json()["ErrorCode"] for _ in "abc"]
    assert codes == [0, 0, 60007]


# --- `manage.py tim_emulator`: a real server ------------------------------------------------------


Serve = Callable[..., tuple[Command, str]]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Run `tim_emulator` with the given options on a thread; stop it after the test."""
    running: list[tuple[Command, threading.Thread]] = []

    def start(*args: str) -> tuple[Command, str]:
        command = Command()
        out = StringIO()
        thread = threading.Thread(
            target=call_command, args=(command, "--port", "0", *args), kwargs={"stdout": out}
        )
        thread.start()
        running.append((command, thread))
        assert command.serving.wait(timeout=10), "the emulator did not start"
        return command, out.getvalue()

    yield start
    for command, thread in running:
        command.server.shutdown()
        thread.join(timeout=10)


def _tencent_client(base_url: str, credentials: SandboxCredentials, **kwargs) -> TencentClient:
    return TencentClient(
        sdkappid=credentials.sdkappid,
        secret_key=credentials.secret_key,
        identifier=credentials.identifier,
        base_url=base_url,
        **kwargs,
    )


def test_tencent_client_sets_and_reads_a_mute_over_http(transactional_db, serve, caplog):
    command, _ = serve()
    client = _tencent_client(command.server.base_url, sandbox_credentials())
    with caplog.at_level(logging.INFO, logger=LOGGER):
        nospeaking_set(client, "lumotuwe", c2c=PERMANENT, group=600)
        status = nospeaking_get(client, "lumotuwe")
        # The server logs after answering; give its thread a moment.
        deadline = time.monotonic() + 2
        while len(caplog.records) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert (status.c2c_seconds, status.group_seconds) in ((PERMANENT, 600), (PERMANENT, 599))

    lines = [record.getMessage() for record in caplog.records if record.name == LOGGER]
    assert any("POST /v4/openconfigsvr/getnospeaking" in line for line in lines)
    assert any("usersig=[redacted]" in line for line in lines)
    assert not any("usersig=eJ" in line for line in lines)


def test_faults_reach_http_clients_as_transport_failures(transactional_db, serve, settings):
    settings.TIM_SANDBOX_RUNTIME = SandboxRuntime(hold_seconds=HELD_SECONDS)
    command, _ = serve()
    url = _url(GET, command.server.base_url)

    sandbox_fault_push(kind="refused")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(url, json={"Get_Account": "a"}, timeout=5)
    assert requests.post(url, json={"Get_Account": "a"}, timeout=5).json()["ErrorCode"] == 0

    sandbox_fault_push(kind="timeout")
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(url, json={"Get_Account": "a"}, timeout=HELD_SECONDS / 4)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603
        [  # noqa: S607
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    return cert, key


def test_tencent_client_calls_it_over_https(transactional_db, serve, certificate):
    cert, key = certificate
    command, out = serve("--certfile", str(cert), "--keyfile", str(key))
    base_url = command.server.base_url
    assert base_url.startswith("https://127.0.0.1:")
    assert f"TIM_API_BASE_URL={base_url}" in out

    session = requests.Session()
    session.verify = str(cert)
    # Else REQUESTS_CA_BUNDLE, when set, would take the place of `verify`.
    session.trust_env = False
    client = _tencent_client(base_url, sandbox_credentials(), session=session)
    nospeaking_set(client, "secure", group=PERMANENT)
    assert nospeaking_get(client, "secure").group_seconds == PERMANENT

    with pytest.raises(requests.exceptions.SSLError):
        requests.post(_url(GET, base_url), json={"Get_Account": "a"}, timeout=5)


def test_command_refuses_an_unusable_certificate(tmp_path, certificate):
    cert, _ = certificate
    with pytest.raises(CommandError, match="Cannot use"):
        call_command("tim_emulator", "--port", "0", "--certfile", str(cert))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("tim_emulator", "--port", "0", "--certfile", str(tmp_path / "none.pem"))
    with pytest.raises(CommandError, match="--keyfile needs --certfile"):
        call_command("tim_emulator", "--port", "0", "--keyfile", str(cert))


def test_command_prints_what_it_expects_and_where_without_the_key(serve):
    command, text = serve()
    credentials = sandbox_credentials()
    port = command.server.server_address[1]
    assert f"SDKAppID {credentials.sdkappid}" in text
    assert f"'{credentials.identifier}'" in text
    assert f"TIM_API_BASE_URL=http://127.0.0.1:{port}" in text
    assert credentials.secret_key not in text


def test_command_checks_against_the_tencent_settings_when_set(transactional_db, serve, settings):
    settings.TIM_SDKAPPID = 1400123456
    settings.TIM_SECRET_KEY = "s" * 64
    settings.TIM_ADMIN_IDENTIFIER = "ops_admin"
    command, text = serve("--host", "127.0.0.1")

    assert "SDKAppID 1400123456" in text
    assert "'ops_admin'" in text
    assert "s" * 64 not in text
    tencent_app = SandboxCredentials(
        sdkappid=1400123456, secret_key="s" * 64, identifier="ops_admin"
    )
    client = _tencent_client(command.server.base_url, tencent_app)
    assert nospeaking_get(client, "anyone").c2c_seconds == 0


def test_command_refuses_tencent_settings_without_a_key(settings):
    settings.TIM_SDKAPPID = 1400123456
    settings.TIM_SECRET_KEY = ""
    with pytest.raises(CommandError, match="TIM_SECRET_KEY"):
        call_command("tim_emulator", "--port", "0")


def test_command_reports_a_port_in_use():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        with pytest.raises(CommandError, match="Cannot listen"):
            call_command("tim_emulator", "--port", port)
