"""How Tencent responses map to exceptions, and what those exceptions tell a moderator."""

import pytest

from muteadmin.tencent.errors import (
    TencentConfigurationError,
    TencentError,
    TencentInvalidRequest,
    TencentRateLimited,
    TencentTimeout,
    TencentTransportError,
    TencentUpstreamError,
    error_from_response,
)

RANDOM = 123456789


def error_for(payload, http_status=200):
    return error_from_response(http_status=http_status, payload=payload, random=RANDOM)


@pytest.mark.parametrize(
    "payload",
    [
        {"ErrorCode": 0},
        {"ErrorCode": 0, "ErrorInfo": "", "C2CmsgNospeakingTime": 0},
        {
            "ActionStatus": "OK",
            "ErrorCode": 0,
            "ErrorInfo": "",
            "ErrorDisplay": "",
            "RequestId": "x",
        },
    ],
)
def test_error_code_zero_is_success_whatever_else_the_envelope_holds(payload):
    assert error_for(payload) is None


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (60007, TencentRateLimited),
        (60011, TencentRateLimited),
        (60018, TencentRateLimited),
        (60019, TencentRateLimited),
        (70050, TencentRateLimited),
        (60004, TencentConfigurationError),
        (60006, TencentConfigurationError),
        (60010, TencentConfigurationError),
        (60021, TencentConfigurationError),
        (70001, TencentConfigurationError),
        (70009, TencentConfigurationError),
        (70014, TencentConfigurationError),
        (70016, TencentConfigurationError),
        (70020, TencentConfigurationError),
        (60002, TencentInvalidRequest),
        (60003, TencentInvalidRequest),
        (60009, TencentInvalidRequest),
        (60015, TencentInvalidRequest),
        (70051, TencentInvalidRequest),
        (70107, TencentInvalidRequest),
        (130001, TencentInvalidRequest),
        (130005, TencentInvalidRequest),
        (130008, TencentInvalidRequest),
        (60008, TencentUpstreamError),
        (60013, TencentUpstreamError),
        (130014, TencentUpstreamError),
        (99999, TencentUpstreamError),
    ],
)
def test_each_error_code_maps_to_its_kind_with_code_info_status_and_random(code, kind):
    error = error_for({"ActionStatus": "FAIL", "ErrorCode": code, "ErrorInfo": "reason"})

    assert type(error) is kind
    assert isinstance(error, TencentError)
    assert (error.error_code, error.error_info, error.http_status, error.random) == (
        code,
        "reason",
        200,
        RANDOM,
    )
    assert error.code_label == f"Tencent error {code}"
    assert str(code) in str(error) and str(RANDOM) in str(error)


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        (60007, True),
        (60011, True),
        (60018, True),
        (60019, True),
        (60008, True),
        (130014, True),
        (70050, False),
        (70001, False),
        (70009, False),
        (130005, False),
        (99999, False),
    ],
)
def test_only_transient_codes_are_retryable(code, retryable):
    assert error_for({"ErrorCode": code, "ErrorInfo": ""}).retryable is retryable


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retryable_transport_errors(status):
    error = error_for(None, http_status=status)
    assert type(error) is TencentTransportError
    assert (error.http_status, error.error_code, error.retryable) == (status, None, True)
    assert error.code_label == f"HTTP {status}"


def test_http_429_is_a_retryable_rate_limit():
    error = error_for(None, http_status=429)
    assert type(error) is TencentRateLimited
    assert error.retryable


@pytest.mark.parametrize("status", [301, 403, 404])
def test_other_http_statuses_point_at_a_wrong_base_url(status):
    error = error_for({"ErrorCode": 0}, http_status=status)
    assert type(error) is TencentConfigurationError
    assert not error.retryable


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {"ErrorInfo": "no code"},
        {"ErrorCode": "0"},
        {"ErrorCode": True},
        {"ErrorCode": 0.0},
    ],
)
def test_a_body_without_an_integer_error_code_is_a_retryable_transport_error(payload):
    error = error_for(payload)
    assert type(error) is TencentTransportError
    assert error.retryable
    assert error.random == RANDOM
    assert error.code_label == "no valid response"


def test_rate_limited_tells_the_moderator_to_wait_a_few_seconds():
    error = error_for({"ErrorCode": 60007, "ErrorInfo": "over limit"})
    assert error.moderator_message == (
        "Tencent is receiving too many requests right now; wait a few seconds and try again."
    )


@pytest.mark.parametrize(
    "error",
    [
        TencentError("x"),
        TencentTransportError("x"),
        TencentTimeout("x"),
        TencentRateLimited("x", error_code=70050),
        TencentConfigurationError("x", error_code=70009),
        TencentConfigurationError("x", error_code=70016),
        TencentInvalidRequest("x", error_code=70107),
        TencentInvalidRequest("x", error_code=130005),
        TencentUpstreamError("x", error_code=130014),
    ],
)
def test_every_error_gives_the_moderator_a_sentence_with_advice(error):
    message = error.moderator_message
    assert message[0].isupper() and message.endswith(".")
    assert ";" in message  # what happened; what to do


def test_specific_codes_get_more_specific_advice_than_their_family():
    wrong_region = TencentConfigurationError("", error_code=70016)
    bad_key = TencentConfigurationError("", error_code=70009)
    assert "TIM_REGION" in wrong_region.moderator_message
    assert wrong_region.moderator_message != bad_key.moderator_message
    assert "minute" in TencentRateLimited("", error_code=70050).moderator_message


def test_timeout_is_a_transport_error_labelled_timeout():
    error = TencentTimeout("ReadTimeout", random=RANDOM)
    assert isinstance(error, TencentTransportError)
    assert error.retryable
    assert error.code_label == "timeout"


def test_error_info_quoting_a_usersig_is_redacted():
    error = error_for({"ErrorCode": 70003, "ErrorInfo": "bad url ?usersig=eJyrVspLzE1VslI&x=1"})
    for text in (error.error_info, str(error), repr(error)):
        assert "eJyrVspLzE1VslI" not in text
        assert "usersig=[redacted]" in text
