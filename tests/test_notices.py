"""Notices: sendmsg on the wire and in the emulator, templates, the account page's notify step."""

import json
import random
import re
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.exceptions import ValidationError
from django.urls import reverse

from muteadmin.audit.models import AuditEntry
from muteadmin.notices.models import NoticeTemplate
from muteadmin.notices.services import NoticeUnavailable, notice_render
from muteadmin.sandbox.adapter import SANDBOX_BASE_URL, SandboxAdapter
from muteadmin.sandbox.credentials import sandbox_credentials
from muteadmin.sandbox.models import SandboxMessage
from muteadmin.sandbox.services import sandbox_fault_push, sandbox_reset
from muteadmin.tencent.apis import APIS, SEND_MSG
from muteadmin.tencent.errors import TencentInvalidRequest
from muteadmin.tencent.messages import MSG_BODY_MAX_BYTES, message_send
from muteadmin.tencent.nospeaking import PERMANENT, nospeaking_get
from muteadmin.upstream.clients import tim_client
from tests.conftest import bulk_job
from tests.sandbox_fixtures import signed_url
from tests.tencent_fixtures import ADMIN, BASE_URL, OK, SDKAPPID, SECRET_KEY

SEND_URL = f"{BASE_URL}/v4/openim/sendmsg"


@pytest.fixture
def sandbox(db):
    sandbox_reset()
    yield
    sandbox_reset()


# --- the wire: what sendmsg sends, checked against what was sent ---------------------------------


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


# --- the emulator --------------------------------------------------------------------------------


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


# --- /sandbox/messages/ --------------------------------------------------------------------------


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


# --- notice texts --------------------------------------------------------------------------------

NOW = datetime(2026, 12, 6, 20, 30, tzinfo=UTC)


def test_the_default_english_notice_fills_every_placeholder(db):
    text = notice_render(c2c_seconds=86400, group_seconds=None, reason="spam raid", now=NOW)
    assert text == (
        "Your account has been muted: you cannot send one-to-one messages. Length: 1 day. "
        "Ends: 2026-12-07 20:30 (UTC). Reason: spam raid"
    )


def test_the_chinese_notice_ends_in_shanghai_time_and_names_both_kinds(db):
    text = notice_render(
        c2c_seconds=3600,
        group_seconds=2 * 86400 + 3 * 3600,
        reason="刷屏",
        now=NOW,
        language="zh-hans",
    )
    assert "单聊和群聊消息" in text
    assert "时长:2天3小时" in text
    assert "2026-12-09 07:30 (Asia/Shanghai)" in text
    assert text.endswith("原因:刷屏")


def test_a_permanent_mute_has_no_end(db):
    text = notice_render(c2c_seconds=PERMANENT, group_seconds=PERMANENT, reason="r", now=NOW)
    assert "Length: permanent. Ends: never (permanent)." in text


def test_a_rule_template_is_used_for_its_rule_and_the_default_otherwise(db):
    NoticeTemplate.objects.create(
        rule_code="SPAM",
        language="en",
        time_zone="Europe/Berlin",
        text="{duration} until {ends_at}",
    )
    ruled = notice_render(c2c_seconds=600, group_seconds=None, reason="", now=NOW, rule_code="SPAM")
    assert ruled == "10 minutes until 2026-12-06 21:40 (Europe/Berlin)"
    other = notice_render(c2c_seconds=600, group_seconds=None, reason="", now=NOW, rule_code="X")
    assert other.startswith("Your account has been muted")


def test_a_lift_has_no_notice(db):
    with pytest.raises(NoticeUnavailable, match="only lifted"):
        notice_render(c2c_seconds=0, group_seconds=None, reason="", now=NOW)


def test_a_template_with_an_unknown_placeholder_or_zone_is_refused(db):
    template = NoticeTemplate(language="en", text="Hi {name}", time_zone="Mars/Olympus")
    with pytest.raises(ValidationError) as caught:
        template.full_clean()
    assert set(caught.value.message_dict) >= {"text", "time_zone"}


# --- the account page: notify --------------------------------------------------------------------


def _account_url(account: str) -> str:
    return reverse("mutes:account", kwargs={"account": account})


def _seen(client, account: str) -> dict[str, str]:
    html = client.get(_account_url(account)).content.decode()
    return dict(re.findall(r'<input type="hidden" name="(seen_\w+)" value="([^"]*)">', html))


def test_a_scripted_change_with_notify_sends_the_template_text(sandbox, as_moderator):
    answer = as_moderator.post(
        _account_url("alice"), {"reason": "spam raid", "c2c_seconds": "86400", "notify": "on"}
    )
    assert answer.status_code == 302
    (message,) = SandboxMessage.objects.all()
    assert message.to_account == "alice"
    assert message.text.startswith("Your account has been muted: you cannot send one-to-one")
    assert message.text.endswith("Reason: spam raid")
    change_row = AuditEntry.objects.get(action="change")
    notice_row = AuditEntry.objects.get(action="notice")
    assert notice_row.correlation_id == change_row.correlation_id
    assert notice_row.outcome == "ok"
    assert notice_row.details["text"] == message.text
    assert notice_row.details["msg_random"] == message.msg_random
    page = as_moderator.get(answer["Location"]).content.decode()
    assert "Notice sent to alice." in page


def test_a_scripted_change_in_chinese(sandbox, as_moderator):
    as_moderator.post(
        _account_url("bob"),
        {"reason": "刷屏", "group_seconds": "600", "notify": "on", "notice_language": "zh-hans"},
    )
    assert "群聊消息" in SandboxMessage.objects.get().text


def test_without_notify_nothing_is_sent(sandbox, as_moderator):
    as_moderator.post(_account_url("alice"), {"reason": "spam", "c2c_seconds": "600"})
    assert not SandboxMessage.objects.exists()
    assert not AuditEntry.objects.filter(action="notice").exists()


def test_the_page_shows_the_text_then_sends_it_once(sandbox, as_moderator):
    data = {"reason": "spam raid", "c2c_seconds": "3600", "notify": "on"}
    page = as_moderator.post(_account_url("alice"), {**data, **_seen(as_moderator, "alice")})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Length: 1 hour." in html
    assert not SandboxMessage.objects.exists()  # shown, not yet sent
    token = re.search(r'name="notice" value="([^"]+)"', html).group(1)
    notice_url = reverse("mutes:notice", kwargs={"account": "alice"})

    sent = as_moderator.post(notice_url, {"notice": token}, follow=True)
    assert "Notice sent to alice." in sent.content.decode()
    assert "Length: 1 hour." in SandboxMessage.objects.get().text

    again = as_moderator.post(notice_url, {"notice": token}, follow=True)
    assert "sent already" in again.content.decode()
    assert SandboxMessage.objects.count() == 1


def test_a_failed_notice_leaves_the_mute_and_says_so(sandbox, as_moderator):
    data = {"reason": "spam raid", "c2c_seconds": "3600", "notify": "on"}
    page = as_moderator.post(_account_url("alice"), {**data, **_seen(as_moderator, "alice")})
    token = re.search(r'name="notice" value="([^"]+)"', page.content.decode()).group(1)
    sandbox_fault_push(kind="error", code=90012)

    answer = as_moderator.post(
        reverse("mutes:notice", kwargs={"account": "alice"}), {"notice": token}, follow=True
    )

    html = answer.content.decode()
    assert "The change stands, but the notice was not sent" in html
    assert "does not exist in the chat app" in html
    assert remaining_c2c(html) > 3500  # the page, queried afresh, still shows the mute
    notice_row = AuditEntry.objects.get(action="notice")
    assert notice_row.outcome == "error"
    assert notice_row.error_code == 90012
    assert not SandboxMessage.objects.exists()


def remaining_c2c(html: str) -> int:
    match = re.search(r'data-mute="c2c".*?data-remaining-seconds="(\d+)"', html, re.S)
    return int(match.group(1))


def test_an_altered_notice_is_not_sent(sandbox, as_moderator):
    answer = as_moderator.post(
        reverse("mutes:notice", kwargs={"account": "alice"}), {"notice": "forged"}, follow=True
    )
    assert "was altered" in answer.content.decode()
    assert not SandboxMessage.objects.exists()
    assert not AuditEntry.objects.filter(action="notice").exists()


def test_a_lift_with_notify_sends_nothing_and_says_why(sandbox, as_moderator):
    as_moderator.post(_account_url("alice"), {"reason": "spam", "c2c_seconds": "600"})
    answer = as_moderator.post(
        _account_url("alice"), {"reason": "ok", "c2c_seconds": "0", "notify": "on"}, follow=True
    )
    assert "only lifted" in answer.content.decode()
    assert not SandboxMessage.objects.exists()


# --- /notices/: Leads edit the texts -------------------------------------------------------------


def test_a_lead_edits_the_default_english_text_and_the_next_notice_uses_it(sandbox, as_lead):
    default = NoticeTemplate.objects.get(rule_code="", language="en")
    assert as_lead.get("/notices/").status_code == 200
    answer = as_lead.post(
        "/notices/",
        {
            "template": default.pk,
            "rule_code": "",
            "language": "en",
            "time_zone": "Europe/London",
            "text": "Muted for {duration}, until {ends_at}.",
        },
    )
    assert answer.status_code == 302
    text = notice_render(c2c_seconds=3600, group_seconds=None, reason="", now=NOW)
    assert text == "Muted for 1 hour, until 2026-12-06 21:30 (Europe/London)."


def test_a_text_with_an_unknown_placeholder_is_refused_with_a_sentence(sandbox, as_lead):
    answer = as_lead.post(
        "/notices/",
        {"rule_code": "SPAM", "language": "en", "time_zone": "UTC", "text": "Hi {user}"},
    )
    assert answer.status_code == 400
    assert "Use only the placeholders" in answer.content.decode()
    assert not NoticeTemplate.objects.filter(rule_code="SPAM").exists()


def test_moderators_cannot_edit_notice_texts(sandbox, as_moderator):
    assert as_moderator.get("/notices/").status_code == 403


# --- bulk: a change job may carry a notice -------------------------------------------------------


def _bulk_run(job, **config):
    from muteadmin.bulk.runner import RunnerConfig, bulk_job_run
    from tests.conftest import FakeClock

    clock = FakeClock(start=time.time())
    bulk_job_run(
        job_id=job.pk,
        worker="test-host:1:run",
        config=RunnerConfig(threads=1, clock=clock, sleep=clock.sleep, **config),
    )
    job.refresh_from_db()


def test_a_bulk_change_sends_each_account_its_notice_through_the_door(sandbox, lead):
    job = bulk_job(
        operator=lead,
        operation="set",
        accounts=["alice", "bob"],
        group_seconds=600,
        reason="spam raid",
        notice_language="zh-hans",
    )
    _bulk_run(job)
    assert (job.state, job.ok, job.errors) == ("done", 2, 0)
    delivered = dict(SandboxMessage.objects.values_list("to_account", "text"))
    assert set(delivered) == {"alice", "bob"}
    assert "群聊消息" in delivered["alice"] and "时长:10分钟" in delivered["alice"]
    notices = AuditEntry.objects.filter(job_id=job.pk, action="notice")
    changes = AuditEntry.objects.filter(job_id=job.pk, action="change")
    assert set(notices.values_list("account", "outcome")) == {("alice", "ok"), ("bob", "ok")}
    assert {row.correlation_id for row in [*notices, *changes]} == {changes[0].correlation_id}


def test_a_bulk_lookup_or_a_job_without_notice_sends_none(sandbox, lead):
    job = bulk_job(operator=lead, operation="set", accounts=["alice"], c2c_seconds=600, reason="r")
    _bulk_run(job)
    assert job.ok == 1
    assert not SandboxMessage.objects.exists()


def test_a_failed_bulk_notice_leaves_the_change_done(sandbox, lead):
    from muteadmin.bulk.calls import Upstream

    def refused(**kwargs):
        raise TencentInvalidRequest("no such account", error_code=90012)

    job = bulk_job(
        operator=lead,
        operation="set",
        accounts=["alice"],
        c2c_seconds=600,
        reason="r",
        notice_language="en",
    )
    _bulk_run(job, upstream=Upstream(notice=refused))
    assert (job.state, job.ok, job.errors) == ("done", 1, 0)
    assert 590 <= nospeaking_get(tim_client(), "alice").c2c_seconds <= 600


def test_the_bulk_preview_shows_the_notice_and_the_job_keeps_its_language(
    sandbox, as_lead, django_capture_on_commit_callbacks
):
    from muteadmin.bulk.models import BulkJob
    from tests.test_bulk_views import FORM_URL, confirm_fields

    page = as_lead.post(
        FORM_URL,
        {
            "operation": "set",
            "accounts": "alice\nbob",
            "c2c_seconds": "86400",
            "reason": "raid",
            "notify": "on",
            "notice_language": "zh-hans",
        },
    )
    html = page.content.decode()
    assert "时长:1天" in html
    with django_capture_on_commit_callbacks(execute=True):
        as_lead.post(FORM_URL, confirm_fields(html))
    assert BulkJob.objects.get().notice_language == "zh-hans"


@pytest.mark.parametrize("template", ["9" * 40, "abc", "999999"])
def test_a_post_naming_no_template_is_not_found(sandbox, as_lead, template):
    answer = as_lead.post(
        "/notices/",
        {"template": template, "rule_code": "", "language": "en", "time_zone": "UTC", "text": "x"},
    )
    assert answer.status_code == 404
