"""`manage.py tim_emulator`: the sandbox protocol over real HTTP on the loopback interface."""

import json
import logging
import threading
import time
from io import StringIO

import pytest
import requests
from django.core.management import CommandError, call_command

from muteadmin.sandbox.credentials import sandbox_credentials
from muteadmin.sandbox.management.commands import tim_emulator
from muteadmin.sandbox.management.commands.tim_emulator import EmulatorServer
from muteadmin.sandbox.protocol import PERMANENT
from muteadmin.sandbox.services import sandbox_fault_push, sandbox_reset
from tests.sandbox_fixtures import signed_url, tencent_usersig

GET = "getnospeaking"
SET = "setnospeaking"
LOGGER = tim_emulator.__name__
# Kept short so a "timeout" fault's held request does not slow the suite.
HELD_SECONDS = 1.0


@pytest.fixture
def emulator(transactional_db):
    """A running emulator on a free loopback port; its threads share the test database."""
    sandbox_reset()
    server = EmulatorServer(
        ("127.0.0.1", 0),
        credentials=sandbox_credentials(),
        timeout_fault_seconds=HELD_SECONDS,
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    sandbox_reset()


def _url(server: EmulatorServer, command: str, **overrides: str | None) -> str:
    return signed_url(
        server.base_url,
        command,
        credentials=sandbox_credentials(),
        time=int(time.time()),
        **overrides,
    )


def _post(url: str, body: dict, timeout: float = 5.0) -> requests.Response:
    return requests.post(url, json=body, timeout=timeout)


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
        _url(emulator, SET, usersig=usersig),
        {"Set_Account": "lumotuwe", "C2CmsgNospeakingTime": PERMANENT},
    )
    assert set_answer.status_code == 200
    assert set_answer.json()["ErrorCode"] == 0

    get_answer = _post(_url(emulator, GET, usersig=usersig), {"Get_Account": "lumotuwe"})
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

    assert (
        _post(
            _url(emulator, SET), {"Set_Account": "shared", "GroupmsgNospeakingTime": 7200}
        ).json()["ErrorCode"]
        == 0
    )
    remaining = _post(_url(emulator, GET), {"Get_Account": "shared"}).json()
    assert 7199 <= remaining["GroupmsgNospeakingTime"] <= 7200

    session = requests.Session()
    session.mount(SANDBOX_BASE_URL, SandboxAdapter())
    in_process = session.post(
        _url_for_base(SANDBOX_BASE_URL, GET), json={"Get_Account": "shared"}, timeout=5
    ).json()
    assert 7199 <= in_process["GroupmsgNospeakingTime"] <= 7200


def _url_for_base(base_url: str, command: str) -> str:
    return signed_url(base_url, command, credentials=sandbox_credentials(), time=int(time.time()))


def test_application_errors_are_http_200(emulator):
    wrong_key = tencent_usersig(
        secret_key="0" * 64,
        identifier=sandbox_credentials().identifier,
        sdkappid=sandbox_credentials().sdkappid,
        time=int(time.time()),
        expire=86400,
    )
    answer = _post(_url(emulator, GET, usersig=wrong_key), {"Get_Account": "a"})
    assert answer.status_code == 200
    assert answer.json()["ErrorCode"] == 70009

    bad_body = requests.post(_url(emulator, SET), data=b"{", timeout=5)
    assert bad_body.status_code == 200
    assert bad_body.json()["ErrorCode"] == 130001


def test_get_is_refused_with_405(emulator):
    answer = requests.get(_url(emulator, GET), timeout=5)
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"
    assert answer.json()["ErrorCode"] == 60008


def test_oversized_body_is_refused_unread(emulator):
    body = json.dumps({"Get_Account": "a", "pad": "x" * 70_000}).encode()
    answer = requests.post(_url(emulator, GET), data=body, timeout=5)
    assert answer.status_code == 413


def test_access_log_redacts_the_usersig(emulator, caplog):
    url = _url(emulator, GET)
    usersig = url.split("usersig=")[1].split("&")[0]
    with caplog.at_level(logging.INFO, logger=LOGGER):
        _post(url, {"Get_Account": "a"})
        # The server logs after answering; give its thread a moment.
        deadline = time.monotonic() + 2
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.01)
    lines = [record.getMessage() for record in caplog.records if record.name == LOGGER]
    assert any("POST /v4/openconfigsvr/getnospeaking" in line for line in lines)
    assert any("usersig=[redacted]" in line for line in lines)
    assert not any(usersig in line for line in lines)


def test_faults_queued_elsewhere_reach_http_clients(emulator):
    sandbox_fault_push(kind="http502")
    sandbox_fault_push(kind="badjson")
    sandbox_fault_push(kind="error", code=60007)

    gateway = _post(_url(emulator, GET), {"Get_Account": "a"})
    assert gateway.status_code == 502
    assert "Bad Gateway" in gateway.text

    truncated = _post(_url(emulator, GET), {"Get_Account": "a"})
    assert truncated.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        truncated.json()

    assert _post(_url(emulator, GET), {"Get_Account": "a"}).json()["ErrorCode"] == 60007
    assert _post(_url(emulator, GET), {"Get_Account": "a"}).json()["ErrorCode"] == 0


def test_refused_fault_drops_the_connection(emulator):
    sandbox_fault_push(kind="refused")
    with pytest.raises(requests.exceptions.ConnectionError):
        _post(_url(emulator, GET), {"Get_Account": "a"})
    assert _post(_url(emulator, GET), {"Get_Account": "a"}).json()["ErrorCode"] == 0


def test_timeout_fault_holds_the_request_past_the_read_timeout(emulator):
    sandbox_fault_push(kind="timeout")
    with pytest.raises(requests.exceptions.ReadTimeout):
        _post(_url(emulator, GET), {"Get_Account": "a"}, timeout=HELD_SECONDS / 4)


def _serve_once(monkeypatch) -> list[EmulatorServer]:
    """Make the command return at once instead of serving forever; collect its server."""
    started: list[EmulatorServer] = []

    def interrupted(server: EmulatorServer, *args, **kwargs) -> None:
        started.append(server)
        raise KeyboardInterrupt

    monkeypatch.setattr(EmulatorServer, "serve_forever", interrupted)
    return started


def test_command_prints_what_it_expects_and_where_without_the_key(monkeypatch):
    started = _serve_once(monkeypatch)
    out = StringIO()
    call_command("tim_emulator", "--port", "0", stdout=out)

    text = out.getvalue()
    credentials = sandbox_credentials()
    port = started[0].server_address[1]
    assert f"SDKAppID {credentials.sdkappid}" in text
    assert f"'{credentials.identifier}'" in text
    assert f"TIM_API_BASE_URL=http://127.0.0.1:{port}" in text
    assert credentials.secret_key not in text


def test_command_checks_against_the_tencent_settings_when_set(monkeypatch, settings):
    settings.TIM_SDKAPPID = 1400123456
    settings.TIM_SECRET_KEY = "s" * 64
    settings.TIM_ADMIN_IDENTIFIER = "ops_admin"
    started = _serve_once(monkeypatch)
    out = StringIO()
    call_command("tim_emulator", "--port", "0", "--host", "127.0.0.1", stdout=out)

    assert "SDKAppID 1400123456" in out.getvalue()
    assert "'ops_admin'" in out.getvalue()
    assert "s" * 64 not in out.getvalue()
    assert started[0].credentials.secret_key == "s" * 64


def test_command_refuses_tencent_settings_without_a_key(settings):
    settings.TIM_SDKAPPID = 1400123456
    settings.TIM_SECRET_KEY = ""
    with pytest.raises(CommandError, match="TIM_SECRET_KEY"):
        call_command("tim_emulator", "--port", "0")


def test_command_reports_a_port_in_use():
    with EmulatorServer(("127.0.0.1", 0), credentials=sandbox_credentials()) as taken:
        port = str(taken.server_address[1])
        with pytest.raises(CommandError, match="Cannot listen"):
            call_command("tim_emulator", "--port", port)
