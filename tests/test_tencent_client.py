"""The Tencent client against stubbed HTTP: what it sends, how it retries, what it never reveals."""

import json
import logging
import traceback
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers

from muteadmin.tencent.accounts import InvalidAccount, validate_account
from muteadmin.tencent.client import TencentClient
from muteadmin.tencent.errors import (
    TencentConfigurationError,
    TencentInvalidRequest,
    TencentRateLimited,
    TencentTimeout,
    TencentTransportError,
    TencentUpstreamError,
)
from muteadmin.tencent.nospeaking import (
    PERMANENT,
    MuteChange,
    MuteStatus,
    nospeaking_get,
    nospeaking_set,
)
from muteadmin.tencent.redaction import RedactSecretsFilter, redact
from muteadmin.tencent.regions import REGIONS, region_base_url
from muteadmin.tencent.retry import RetryPolicy
from muteadmin.tencent.usersig import usersig_decode
from tests.tencent_fixtures import ADMIN, BASE_URL, OK, SDKAPPID, SECRET_KEY, tencent_client

GET_URL = f"{BASE_URL}/v4/openconfigsvr/getnospeaking"
SET_URL = f"{BASE_URL}/v4/openconfigsvr/setnospeaking"
START = 1_700_000_000.0
NOT_MUTED = {**OK, "C2CmsgNospeakingTime": 0, "GroupmsgNospeakingTime": 0}


@pytest.fixture
def client(stubbed_client):
    """The Tencent client under test: in this file `client` is it, not Django's test client."""
    return stubbed_client


def query(request) -> dict[str, str]:
    params = parse_qs(urlsplit(request.url).query, keep_blank_values=True)
    assert all(len(values) == 1 for values in params.values()), params
    return {name: values[0] for name, values in params.items()}


def tencent_convention(request):
    """responses matcher: the query string, headers and timeouts every Tencent call must carry."""
    params = query(request)
    problems = []
    if set(params) != {"sdkappid", "identifier", "usersig", "random", "contenttype"}:
        problems.append(f"query parameters {sorted(params)}")
    if params.get("sdkappid") != str(SDKAPPID) or params.get("identifier") != ADMIN:
        problems.append("sdkappid or identifier")
    if params.get("contenttype") != "json":
        problems.append("contenttype")
    random = params.get("random", "")
    if not (random.isdigit() and str(int(random)) == random and 0 <= int(random) <= 2**32 - 1):
        problems.append(f"random {random!r}")
    document = usersig_decode(params.get("usersig", ""))
    if (document["TLS.identifier"], document["TLS.sdkappid"]) != (ADMIN, SDKAPPID):
        problems.append("usersig signed for someone else")
    if request.headers.get("Content-Type") != "application/json" or not request.body:
        problems.append("content type or empty body")
    connect, read = request.req_kwargs["timeout"]
    if connect != 3.05 or not 0 < read <= 5.0:
        problems.append(f"timeout {(connect, read)}")
    return not problems, "; ".join(problems)


def stub(rsps, url, request_json, **response):
    """Register a Tencent answer that only matches a conventional request with this JSON body."""
    match = [tencent_convention, matchers.json_params_matcher(request_json)]
    if callable(response.get("callback")):
        return rsps.add_callback(responses.POST, url, match=match, **response)
    return rsps.post(url, match=match, **response)


def sent(rsps, index=-1) -> dict[str, str]:
    return query(rsps.calls[index].request)


def sent_randoms(rsps) -> list[int]:
    return [int(query(call.request)["random"]) for call in rsps.calls]


def get_stub(rsps, account="alice", **response):
    return stub(rsps, GET_URL, {"Get_Account": account}, **response)


# Looking mutes up


def test_get_mute_reads_both_mutes_with_the_request_random(client, rsps):
    get_stub(rsps, json={**OK, "C2CmsgNospeakingTime": 0, "GroupmsgNospeakingTime": 7196})

    status = nospeaking_get(client, "alice")

    assert status == MuteStatus(
        account="alice",
        c2c_seconds=0,
        group_seconds=7196,
        observed_at=datetime.fromtimestamp(START, UTC),
        random=int(sent(rsps)["random"]),
        attempts=1,
    )
    assert not status.c2c_permanent and not status.group_permanent


def test_get_mute_reports_permanent_mutes_without_action_status_and_ignores_extra_fields(
    client, rsps
):
    get_stub(
        rsps,
        json={
            "ErrorCode": 0,
            "ErrorInfo": "",
            "ErrorDisplay": "",
            "RequestId": "req-1",
            "C2CmsgNospeakingTime": 4294967295,
            "GroupmsgNospeakingTime": 4294967295,
        },
    )

    status = nospeaking_get(client, "alice")

    assert status.c2c_permanent and status.group_permanent
    assert status.c2c_seconds == status.group_seconds == PERMANENT


def test_results_are_frozen(client, rsps):
    get_stub(rsps, json=NOT_MUTED)
    status = nospeaking_get(client, "alice")
    with pytest.raises(AttributeError):
        status.c2c_seconds = 5


@pytest.mark.parametrize(
    "c2c_value", ["3600", -1, 4294967296, True, 1.5, None, "missing"], ids=repr
)
def test_unreadable_mute_times_in_a_success_raise_upstream_error_without_retry(
    client, rsps, c2c_value
):
    answer = {**OK, "GroupmsgNospeakingTime": 0}
    if c2c_value != "missing":
        answer["C2CmsgNospeakingTime"] = c2c_value
    answer_stub = get_stub(rsps, json=answer)

    with pytest.raises(TencentUpstreamError) as caught:
        nospeaking_get(client, "alice")

    assert answer_stub.call_count == 1
    assert caught.value.random == int(sent(rsps)["random"])


def test_every_request_gets_a_fresh_random(client, rsps):
    get_stub(rsps, json=NOT_MUTED)
    results = [nospeaking_get(client, "alice") for _ in range(5)]
    randoms = sent_randoms(rsps)
    assert len(set(randoms)) == 5
    assert [result.random for result in results] == randoms


def test_calls_go_through_the_one_session_the_client_holds(clock, rsps):
    session = requests.Session()
    sends = []
    original_send = session.send
    session.send = lambda *args, **kwargs: sends.append(kwargs) or original_send(*args, **kwargs)
    client = tencent_client(clock, session=session)
    get_stub(rsps, json=NOT_MUTED)
    stub(rsps, SET_URL, {"Set_Account": "alice", "C2CmsgNospeakingTime": 60}, json=OK)

    nospeaking_get(client, "alice")
    nospeaking_set(client, "alice", c2c=60)

    assert client.session is session
    assert [kwargs["timeout"] for kwargs in sends] == [(3.05, 5.0), (3.05, 5.0)]


# Changing mutes


def test_set_mute_with_c2c_only_leaves_the_group_mute_out_of_the_request(client, rsps):
    stub(rsps, SET_URL, {"Set_Account": "alice", "C2CmsgNospeakingTime": 3600}, json=OK)

    change = nospeaking_set(client, "alice", c2c=3600)

    assert "GroupmsgNospeakingTime" not in json.loads(rsps.calls[0].request.body)
    assert change == MuteChange(
        account="alice",
        c2c_seconds=3600,
        group_seconds=None,
        observed_at=datetime.fromtimestamp(START, UTC),
        random=int(sent(rsps)["random"]),
        attempts=1,
    )


def test_set_mute_with_group_only_leaves_the_c2c_mute_out_of_the_request(client, rsps):
    stub(rsps, SET_URL, {"Set_Account": "bob", "GroupmsgNospeakingTime": 0}, json=OK)

    change = nospeaking_set(client, "bob", group=0)

    assert "C2CmsgNospeakingTime" not in json.loads(rsps.calls[0].request.body)
    assert (change.c2c_seconds, change.group_seconds) == (None, 0)


def test_set_mute_with_both_sends_both(client, rsps):
    body = {"Set_Account": "bob", "C2CmsgNospeakingTime": PERMANENT, "GroupmsgNospeakingTime": 0}
    stub(rsps, SET_URL, body, json={"ErrorCode": 0, "ErrorInfo": ""})

    change = nospeaking_set(client, "bob", c2c=PERMANENT, group=0)

    assert (change.c2c_seconds, change.group_seconds) == (4294967295, 0)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"c2c": -1}, {"group": PERMANENT + 1}, {"c2c": True}, {"c2c": 1.5}, {"group": "60"}],
    ids=repr,
)
def test_set_mute_rejects_bad_values_before_sending_anything(client, rsps, kwargs):
    with pytest.raises(ValueError):
        nospeaking_set(client, "alice", **kwargs)
    assert len(rsps.calls) == 0


# Account IDs


@pytest.mark.parametrize("account", ["", "a" * 33, "élodie", "tab\there", "a\nb", "del\x7f", None])
def test_invalid_accounts_are_refused_with_a_sentence_before_any_call(client, rsps, account):
    with pytest.raises(InvalidAccount) as caught:
        nospeaking_get(client, account)
    with pytest.raises(InvalidAccount):
        nospeaking_set(client, account, c2c=60)
    message = str(caught.value)
    assert message[0].isupper() and message.endswith(".")
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("account", ["a", "a" * 32, "user_01-x", "name with spaces!~"])
def test_printable_ascii_accounts_up_to_32_bytes_are_valid(account):
    validate_account(account)


def test_a_client_for_an_invalid_admin_identifier_cannot_be_built():
    with pytest.raises(InvalidAccount):
        TencentClient(sdkappid=SDKAPPID, secret_key=SECRET_KEY, identifier="", base_url=BASE_URL)


# UserSig reuse and renewal


def test_one_usersig_is_reused_across_calls(client, rsps):
    get_stub(rsps, json=NOT_MUTED)
    nospeaking_get(client, "alice")
    nospeaking_get(client, "alice")
    assert sent(rsps, 0)["usersig"] == sent(rsps, 1)["usersig"]


def test_usersig_is_renewed_a_margin_before_it_expires(client, clock, rsps):
    get_stub(rsps, json=NOT_MUTED)
    nospeaking_get(client, "alice")
    first = usersig_decode(sent(rsps, 0)["usersig"])
    renew_at = first["TLS.time"] + first["TLS.expire"] - 10 * 60

    clock.now = renew_at - 1
    nospeaking_get(client, "alice")
    clock.now = renew_at
    nospeaking_get(client, "alice")

    assert sent(rsps, 1)["usersig"] == sent(rsps, 0)["usersig"]
    assert sent(rsps, 2)["usersig"] != sent(rsps, 1)["usersig"]
    assert usersig_decode(sent(rsps, 2)["usersig"])["TLS.time"] == renew_at


def test_expired_usersig_is_signed_afresh_and_retried_once(client, clock, rsps):
    get_stub(rsps, json=NOT_MUTED)
    nospeaking_get(client, "alice")
    clock.now += 60
    get_stub(rsps, json={"ErrorCode": 70001, "ErrorInfo": "usersig expired"})
    get_stub(rsps, json={**NOT_MUTED, "C2CmsgNospeakingTime": 30})

    status = nospeaking_get(client, "alice")

    assert status.c2c_seconds == 30
    assert status.attempts == 2
    assert sent(rsps, 1)["usersig"] == sent(rsps, 0)["usersig"]
    assert usersig_decode(sent(rsps, 2)["usersig"])["TLS.time"] == START + 60
    assert clock.sleeps == []


def test_a_second_expired_usersig_raises_configuration_error(client, rsps):
    expired = get_stub(rsps, json={"ErrorCode": 70001, "ErrorInfo": "usersig expired"})

    with pytest.raises(TencentConfigurationError) as caught:
        nospeaking_get(client, "alice")

    assert expired.call_count == 2
    assert (caught.value.error_code, caught.value.attempts) == (70001, 2)
    assert "clock" in caught.value.moderator_message


# Transport failures and retries


@pytest.mark.parametrize(
    "failure", [requests.exceptions.ReadTimeout, requests.exceptions.ConnectTimeout]
)
def test_timeouts_are_retried_then_raise_tencent_timeout(client, clock, rsps, failure):
    hanging = get_stub(rsps, body=failure("timed out"))

    with pytest.raises(TencentTimeout) as caught:
        nospeaking_get(client, "alice")

    assert hanging.call_count == caught.value.attempts == 4
    assert caught.value.random == sent_randoms(rsps)[-1]
    assert caught.value.code_label == "timeout"


def test_refused_connection_raises_transport_error(client, rsps):
    refused = get_stub(rsps, body=requests.exceptions.ConnectionError("Connection refused"))

    with pytest.raises(TencentTransportError) as caught:
        nospeaking_get(client, "alice")

    assert not isinstance(caught.value, TencentTimeout)
    assert refused.call_count == 4


def test_502_then_success_returns_the_second_answer(client, clock, rsps):
    get_stub(rsps, status=502, body="<html>Bad Gateway</html>")
    get_stub(rsps, json={**NOT_MUTED, "GroupmsgNospeakingTime": 60})

    status = nospeaking_get(client, "alice")

    assert (status.group_seconds, status.attempts) == (60, 2)
    assert status.random == sent_randoms(rsps)[1] != sent_randoms(rsps)[0]
    assert len(clock.sleeps) == 1 and 0 <= clock.sleeps[0] <= 0.2


def test_502_forever_gives_up_after_bounded_attempts_with_backoff(client, clock, rsps):
    bad_gateway = get_stub(rsps, status=502, body="Bad Gateway")

    with pytest.raises(TencentTransportError) as caught:
        nospeaking_get(client, "alice")

    randoms = sent_randoms(rsps)
    assert bad_gateway.call_count == caught.value.attempts == 4
    assert len(set(randoms)) == 4
    assert caught.value.random == randoms[-1]
    assert caught.value.http_status == 502
    assert len(clock.sleeps) == 3
    assert all(0 <= pause <= min(2.0, 0.2 * 2**i) for i, pause in enumerate(clock.sleeps))


def test_invalid_json_is_retried_as_a_transport_error(client, rsps):
    get_stub(rsps, body="<html>not json</html>")
    get_stub(rsps, json=NOT_MUTED)

    assert nospeaking_get(client, "alice").attempts == 2


@pytest.mark.parametrize("body", ["{broken", "[1, 2]", '{"ErrorInfo": ""}', ""])
def test_garbage_forever_raises_transport_error(client, rsps, body):
    garbage = get_stub(rsps, body=body)

    with pytest.raises(TencentTransportError):
        nospeaking_get(client, "alice")

    assert garbage.call_count == 4


# Tencent error families


def test_rate_limit_60007_is_retried_then_succeeds(client, clock, rsps):
    get_stub(rsps, json={"ErrorCode": 60007, "ErrorInfo": "freq limit"})
    get_stub(rsps, json=NOT_MUTED)

    assert nospeaking_get(client, "alice").attempts == 2
    assert len(clock.sleeps) == 1


def test_rate_limit_60011_forever_raises_rate_limited_with_advice(client, rsps):
    limited = get_stub(rsps, json={"ErrorCode": 60011, "ErrorInfo": "sdkappid freq limit"})

    with pytest.raises(TencentRateLimited) as caught:
        nospeaking_get(client, "alice")

    assert limited.call_count == 4
    assert caught.value.moderator_message == (
        "Tencent is receiving too many requests right now; wait a few seconds and try again."
    )


def test_signature_lockout_70050_is_not_retried(client, rsps):
    locked = get_stub(rsps, json={"ErrorCode": 70050, "ErrorInfo": "wait a minute"})
    with pytest.raises(TencentRateLimited):
        nospeaking_get(client, "alice")
    assert locked.call_count == 1


def test_wrong_key_70009_is_a_configuration_error_and_not_retried(client, rsps):
    wrong_key = get_stub(rsps, json={"ErrorCode": 70009, "ErrorInfo": "hmac mismatch"})

    with pytest.raises(TencentConfigurationError) as caught:
        nospeaking_get(client, "alice")

    assert wrong_key.call_count == 1
    assert caught.value.code_label == "Tencent error 70009"
    assert caught.value.attempts == 1


def test_invalid_account_130005_is_an_invalid_request_and_not_retried(client, rsps):
    invalid = stub(
        rsps,
        SET_URL,
        {"Set_Account": "alice", "GroupmsgNospeakingTime": 60},
        json={"ErrorCode": 130005, "ErrorInfo": "Set_Account invalid"},
    )

    with pytest.raises(TencentInvalidRequest) as caught:
        nospeaking_set(client, "alice", group=60)

    assert invalid.call_count == 1
    assert caught.value.error_code == 130005


def test_system_error_130014_is_retried(client, rsps):
    body = {"Set_Account": "alice", "C2CmsgNospeakingTime": 0}
    stub(rsps, SET_URL, body, json={"ErrorCode": 130014, "ErrorInfo": "system error"})
    stub(rsps, SET_URL, body, json=OK)

    assert nospeaking_set(client, "alice", c2c=0).attempts == 2


# The overall deadline


def test_retries_stop_at_the_deadline_and_shrink_the_last_read_timeout(clock, rsps):
    client = tencent_client(clock, retry=RetryPolicy(max_attempts=100))
    budgets = []

    def hang_until_timeout(request):
        connect, read = request.req_kwargs["timeout"]
        budgets.append((connect + read, 15.0 - (clock.now - START)))
        clock.now += connect + read
        return (0, {}, requests.exceptions.ReadTimeout("read timed out"))

    get_stub(rsps, callback=hang_until_timeout)

    with pytest.raises(TencentTimeout) as caught:
        nospeaking_get(client, "alice")

    assert clock.now - START <= 15.0
    assert all(needed <= left for needed, left in budgets)
    assert caught.value.attempts == len(budgets) == 2
    assert budgets[1][0] < 3.05 + 5.0  # the second attempt got only the time that was left


# Secrets


def test_no_usersig_or_secret_key_reaches_logs_errors_or_reprs(client, rsps, caplog):
    caplog.set_level(logging.DEBUG)
    connectionpool = logging.getLogger("urllib3.connectionpool")

    def answer_like_urllib3(request):
        # What urllib3 itself logs around a real request: the full URL, UserSig included.
        connectionpool.debug(
            '%s://%s:%s "%s %s %s" %s %s', "https", "console.tim.qq.com", 443, "POST",
            request.path_url, "HTTP/1.1", 200, 80,
        )  # fmt: skip
        return (200, {}, json.dumps(NOT_MUTED))

    def refuse_like_urllib3(request):
        connectionpool.warning(
            "Retrying (%r) after connection broken by '%r': %s", "Retry(total=0)",
            "NewConnectionError('refused')", request.path_url,
        )  # fmt: skip
        message = (
            "HTTPSConnectionPool(host='console.tim.qq.com', port=443): Max retries exceeded "
            f"with url: {request.path_url} (Caused by NewConnectionError('refused'))"
        )
        return (0, {}, requests.exceptions.ConnectionError(message))

    get_stub(rsps, callback=answer_like_urllib3)
    nospeaking_get(client, "alice")
    get_stub(rsps, account="bob", callback=refuse_like_urllib3)
    with pytest.raises(TencentTransportError) as caught:
        nospeaking_get(client, "bob")

    error = caught.value
    outputs = {
        "log": caplog.text,
        "str": str(error),
        "repr": repr(error),
        "moderator_message": error.moderator_message,
        "error_info": error.error_info,
        "traceback": "".join(traceback.format_exception(error)),
        "client": repr(client),
    }
    raw = {sent(rsps, i)["usersig"] for i in range(len(rsps.calls))}
    encoded = {
        urlsplit(call.request.url).query.split("usersig=")[1].split("&")[0] for call in rsps.calls
    }
    for name, text in outputs.items():
        for secret in raw | encoded | {SECRET_KEY}:
            assert secret not in text, name
    assert caplog.text.count("usersig=[redacted]") >= 2
    assert "Max retries exceeded" in error.error_info  # the kind of failure is kept
    assert error.__cause__ is None and error.__context__ is None


def test_the_redaction_filter_is_installed_once_on_the_urllib3_loggers(client):
    TencentClient(sdkappid=SDKAPPID, secret_key=SECRET_KEY, identifier=ADMIN, base_url=BASE_URL)
    for name in ("urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry"):
        filters = logging.getLogger(name).filters
        assert sum(isinstance(f, RedactSecretsFilter) for f in filters) == 1


def test_logged_exceptions_have_their_traceback_text_redacted(client, caplog):
    logger = logging.getLogger("urllib3.connectionpool")
    try:
        raise requests.exceptions.ConnectionError("url: /v4/x?usersig=eJwSECRET&random=1")
    except requests.exceptions.ConnectionError:
        logger.warning("call failed", exc_info=True)
    assert "eJwSECRET" not in caplog.text
    assert "usersig=[redacted]" in caplog.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "/v4/a?sdkappid=1&usersig=eJw*abc-_&random=5",
            "/v4/a?sdkappid=1&usersig=[redacted]&random=5",
        ),
        ("POST /v4/a?USERSIG=abc HTTP/1.1", "POST /v4/a?USERSIG=[redacted] HTTP/1.1"),
        ("{'usersig': 'eJwabc', 'random': 1}", "{'usersig': '[redacted]', 'random': 1}"),
        ('{"usersig": "eJwabc"}', '{"usersig": "[redacted]"}'),
        ("nothing to hide", "nothing to hide"),
    ],
)
def test_redact_hides_usersig_values_and_keeps_the_rest(text, expected):
    assert redact(text) == expected


# Regions


def test_every_region_has_a_primary_and_backup_https_base_url():
    assert set(REGIONS) == {
        "china", "singapore", "seoul", "tokyo", "frankfurt", "silicon-valley", "jakarta",
    }  # fmt: skip
    assert region_base_url("china") == "https://console.tim.qq.com"
    assert region_base_url("china", backup=True) == "https://adminapi.my-imcloud.com"
    assert region_base_url("singapore") == "https://adminapisgp.im.qcloud.com"
    assert region_base_url("jakarta", backup=True) == "https://adminapiidn.my-imcloud.com"


def test_an_unknown_region_raises_value_error_naming_the_known_ones():
    with pytest.raises(ValueError, match="singapore"):
        region_base_url("mars")
