"""Notices: sendmsg on the wire and in the emulator, templates, the account page's notify step."""

import json
import random
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from muteadmin.sandbox.adapter import SANDBOX_BASE_URL, SandboxAdapter
from muteadmin.sandbox.credentials import sandbox_credentials
from muteadmin.sandbox.models import SandboxMessage
from muteadmin.sandbox.services import sandbox_fault_push, sandbox_reset
from muteadmin.tencent.apis import APIS, SEND_MSG
from muteadmin.tencent.client import TencentClient
from muteadmin.tencent.errors import TencentInvalidRequest
from muteadmin.tencent.messages import MSG_BODY_MAX_BYTES, message_send
from muteadmin.upstream.clients import tim_client
from tests.sandbox_fixtures import signed_url

SDKAPPID = 1400000001
SECRET_KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"
ADMIN = "administrator"
BASE_URL = "https://console.tim.qq.com"
SEND_URL = f"{BASE_URL}/v4/openim/sendmsg"
OK = {"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": ""}


@pytest.fixture
def stubbed_client(clock):
    return TencentClient(
        sdkappid=SDKAPPID,
        secret_key=SECRET_KEY,
        identifier=ADMIN,
        base_url=BASE_URL,
        clock=clock.time,
        monotonic=clock.time,
        sleep=clock.sleep,
    )


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def sandbox(db):
    sandbox_reset()
    yield
    sandbox_reset()


# --- the wire: what sendmsg sends, checked against what was sent --------------------------------


def test_sendmsg_is_in_the_table_of_caps_at_200_a_second():
    assert APIS["v4/openim/sendmsg"] is SEND_MSG
    assert SEND_MSG.cap_per_second == 200


def test_sendmsg_sends_a_text_message_from_the_admin_without_syncing_it(stubbed_client, rsps):
    rsps.post(SEND_URL, json={**OK, "MsgTime": 1700000000, "MsgKey": "1_2_1700000000"})

    sent = message_send(stubbed_client, "alice", text="You are muted.", rng=random.Random(7))

    (call,) = rsps.calls
    params = {
        name: values[0] for name, values in parse_qs(urlsplit(call.request.url).query).items()
    }
    assert params["sdkappid"] == str(SDKAPPID)
    assert params["identifier"] == ADMIN
    assert params["contenttype"] == "json"
    assert 0 <= int(params["random"]) < 2**32
    assert call.request.headers["Content-Type"] == "application/json"
    body = json.loads(call.request.body)
    expected_random = random.Random(7).randrange(2**32)
    assert body == {
        "SyncOtherMachine": 2,
        "From_Account": ADMIN,
        "To_Account": "alice",
        "MsgRandom": expected_random,
        "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "You are muted."}}],
    }
    assert sent.msg_random == expected_random
    assert sent.msg_key == "1_2_1700000000"
    assert sent.msg_time == 1700000000


def test_each_message_gets_a_fresh_msgrandom_kept_across_retries(stubbed_client, rsps):
    rsps.post(SEND_URL, json={"ActionStatus": "FAIL", "ErrorCode": 60008, "ErrorInfo": "busy"})
    rsps.post(SEND_URL, json={**OK, "MsgTime": 1, "MsgKey": "k"})
    rsps.post(SEND_URL, json={**OK, "MsgTime": 2, "MsgKey": "k2"})

    first = message_send(stubbed_client, "alice", text="one")
    second = message_send(stubbed_client, "alice", text="one")

    bodies = [json.loads(call.request.body) for call in rsps.calls]
    assert bodies[0]["MsgRandom"] == bodies[1]["MsgRandom"] == first.msg_random
    assert second.msg_random == bodies[2]["MsgRandom"]
    assert first.attempts == 2


def test_a_chinese_text_is_sent_as_json_unicode(stubbed_client, rsps):
    rsps.post(SEND_URL, json={**OK, "MsgTime": 1, "MsgKey": "k"})
    message_send(stubbed_client, "alice", text="您已被禁言。")
    body = json.loads(rsps.calls[0].request.body)
    assert body["MsgBody"][0]["MsgContent"]["Text"] == "您已被禁言。"


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty"), ("   ", "empty"), ("x" * MSG_BODY_MAX_BYTES, "too long")],
)
def test_an_empty_or_oversized_text_is_refused_before_sending(stubbed_client, rsps, text, message):
    with pytest.raises(ValueError, match=message):
        message_send(stubbed_client, "alice", text=text)
    assert not rsps.calls


def test_an_account_tencent_does_not_know_is_a_sentence(stubbed_client, rsps):
    rsps.post(SEND_URL, json={"ActionStatus": "FAIL", "ErrorCode": 90012, "ErrorInfo": "no"})
    with pytest.raises(TencentInvalidRequest) as caught:
        message_send(stubbed_client, "ghost", text="hello")
    assert "does not exist" in caught.value.moderator_message
    assert len(rsps.calls) == 1  # not retried


# --- the emulator ---------------------------------------------------------------------------------


def test_the_sandbox_delivers_what_the_client_sends(sandbox):
    sent = message_send(tim_client(), "alice", text="Muted for a day.")

    (message,) = SandboxMessage.objects.all()
    assert message.to_account == "alice"
    assert message.text == "Muted for a day."
    assert message.msg_random == sent.msg_random
    assert message.from_account == sandbox_credentials().identifier
    assert sent.msg_key.endswith(f"_{sent.msg_random}_{sent.msg_time}")


def test_a_queued_fault_stands_for_an_account_never_imported(sandbox):
    sandbox_fault_push(kind="error", code=90012)
    with pytest.raises(TencentInvalidRequest) as caught:
        message_send(tim_client(), "ghost", text="hello")
    assert caught.value.error_code == 90012
    assert not SandboxMessage.objects.exists()


def _raw_post(body: dict | bytes) -> dict:
    session = requests.Session()
    session.mount(SANDBOX_BASE_URL, SandboxAdapter())
    url = signed_url(
        SANDBOX_BASE_URL,
        "sendmsg",
        credentials=sandbox_credentials(),
        time=int(time.time()),
        service="openim",
    )
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    answer = session.post(url, data=data, timeout=5)
    assert answer.status_code == 200
    return answer.json()


GOOD = {
    "SyncOtherMachine": 2,
    "To_Account": "alice",
    "MsgRandom": 12345,
    "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}],
}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"To_Account": None}, 90003),
        ({"To_Account": ""}, 90003),
        ({"To_Account": 42}, 90003),
        ({"MsgRandom": None}, 90005),
        ({"MsgRandom": 2**32}, 90005),
        ({"MsgRandom": "12"}, 90005),
        ({"MsgBody": None}, 90007),
        ({"MsgBody": []}, 90007),
        ({"MsgBody": [{"MsgType": "TIMBogusElem", "MsgContent": {}}]}, 90002),
        ({"MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": ""}}]}, 90002),
        ({"MsgBody": [{"MsgType": "TIMTextElem"}]}, 90002),
        ({"SyncOtherMachine": 3}, 90031),
        ({"From_Account": ""}, 90008),
        ({"MsgLifeTime": 7 * 86400 + 1}, 90026),
        (
            {"MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x" * 13000}}]},
            93000,
        ),
    ],
)
def test_the_emulator_checks_what_tencent_checks(sandbox, change, code):
    body = {**GOOD, **change}
    body = {name: value for name, value in body.items() if value is not None}
    answer = _raw_post(body)
    assert answer["ErrorCode"] == code
    assert answer["ActionStatus"] == "FAIL"
    assert not SandboxMessage.objects.exists()


def test_the_emulator_answers_90001_to_a_body_that_is_not_json(sandbox):
    assert _raw_post(b"{")["ErrorCode"] == 90001


def test_the_emulator_answers_msgtime_and_msgkey(sandbox):
    answer = _raw_post(GOOD)
    assert answer["ErrorCode"] == 0
    assert isinstance(answer["MsgTime"], int)
    assert answer["MsgKey"].split("_")[1] == "12345"
    assert SandboxMessage.objects.get().from_account == ""


# --- /sandbox/messages/ ---------------------------------------------------------------------------


def test_the_messages_page_lists_what_was_delivered(sandbox, as_moderator):
    message_send(tim_client(), "alice", text="Muted <for> a day.")
    page = as_moderator.get("/sandbox/messages/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "alice" in html
    assert "Muted &lt;for&gt; a day." in html


def test_the_messages_page_needs_a_signed_in_moderator(sandbox, client, outsider):
    assert client.get("/sandbox/messages/").status_code == 302
    client.force_login(outsider)
    assert client.get("/sandbox/messages/").status_code == 403


def test_there_is_no_messages_page_without_a_sandbox_app(sandbox, as_moderator, settings):
    settings.TIM_SDKAPPID = SDKAPPID
    settings.TIM_SECRET_KEY = SECRET_KEY
    settings.TIM_ADMIN_IDENTIFIER = ADMIN
    assert as_moderator.get("/sandbox/messages/").status_code == 404
