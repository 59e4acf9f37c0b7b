"""The one retry policy: which failures are tried again inside a call and in background jobs."""

import random

import pytest

from muteadmin.tencent.errors import (
    TencentConfigurationError,
    TencentInvalidRequest,
    TencentRateLimited,
    TencentTimeout,
    TencentTransportError,
    TencentUpstreamError,
)
from muteadmin.tencent.retry import PAUSE_SECONDS, RetryPolicy, reschedule_delay


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (TencentRateLimited("busy", error_code=60007), True),
        (TencentRateLimited("HTTP 429", http_status=429), True),
        (TencentUpstreamError("internal", error_code=130014), True),
        (TencentTransportError("HTTP 502", http_status=502), True),
        (TencentTimeout("read timed out"), True),
        (TencentRateLimited("signature failures", error_code=70050), False),
        (TencentConfigurationError("bad sig", error_code=70009), False),
        (TencentInvalidRequest("no such account", error_code=70107), False),
        (TencentUpstreamError("unknown", error_code=99999), False),
    ],
)
def test_within_a_call_only_transient_failures_are_retried(error, retried):
    delay = RetryPolicy().delay(error, attempt=1, rng=random.Random(1))
    assert (delay is not None) is retried


def test_backoff_grows_with_full_jitter_up_to_the_cap():
    policy = RetryPolicy(max_attempts=10, backoff_base=0.2, backoff_cap=2.0)
    error = TencentTimeout("read timed out")
    rng = random.Random(7)
    ceilings = [0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    for attempt, ceiling in enumerate(ceilings, start=1):
        delays = [policy.delay(error, attempt=attempt, rng=rng) for _ in range(200)]
        assert min(delays) >= 0 and max(delays) <= ceiling
        assert max(delays) > ceiling * 0.8  # jitter spreads over the whole range


def test_the_last_attempt_is_not_followed_by_another():
    policy = RetryPolicy(max_attempts=3)
    error = TencentTimeout("read timed out")
    assert policy.delay(error, attempt=2, rng=random.Random()) is not None
    assert policy.delay(error, attempt=3, rng=random.Random()) is None


def test_a_policy_without_attempts_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(max_attempts=0)


@pytest.mark.parametrize(
    ("error", "waits"),
    [
        (TencentRateLimited("busy", error_code=60007), [1.0, 4.0, None]),
        (TencentTransportError("HTTP 502", http_status=502), [1.0, 4.0, None]),
        (TencentRateLimited("pause", error_code=70050), [PAUSE_SECONDS, PAUSE_SECONDS, None]),
        (TencentInvalidRequest("no such account", error_code=70107), [None, None, None]),
        (ValueError("not Tencent's answer"), [None, None, None]),
    ],
)
def test_a_background_account_is_rescheduled_by_the_table(error, waits):
    assert [reschedule_delay(error, rescheduled=n) for n in range(3)] == waits
