"""The one retry policy for calls to Tencent: which failures are tried again, and after how long.

Two layers share this table. Inside one call the client retries quickly (full-jitter backoff,
within the call's deadline). A background job whose call still failed does not loop again
around the client: it reschedules the account for later, after `reschedule_delay`.
"""

import random
from dataclasses import dataclass

from muteadmin.tencent.errors import TencentError, TencentRateLimited

# Tencent asks callers who met 70050 (too many signature failures) to pause for a minute.
PAUSE_CODE = 70050
PAUSE_SECONDS = 60.0
# A background account is tried again after these waits, one per reschedule, then given up.
RESCHEDULE_SECONDS = (1.0, 4.0)


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts within one call, and the backoff between them."""

    max_attempts: int = 4
    backoff_base: float = 0.2
    backoff_cap: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1.")

    def backoff(self, *, attempt: int, rng: random.Random) -> float:
        """Full jitter after the `attempt`-th failure, so many callers do not retry in step."""
        return rng.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))

    def delay(self, error: TencentError, *, attempt: int, rng: random.Random) -> float | None:
        """Seconds to wait before attempt `attempt + 1` of the same call; None: give up."""
        if attempt >= self.max_attempts or not error.retryable:
            return None
        return self.backoff(attempt=attempt, rng=rng)


def reschedule_delay(error: Exception, *, rescheduled: int) -> float | None:
    """Seconds before a background account is tried again after `error`; None: it has failed.

    `rescheduled` is how many times that account was put back already. Only Tencent's answers
    that a later try may not meet qualify: overload, transport trouble, and 70050's pause.
    """
    if not isinstance(error, TencentError) or rescheduled >= len(RESCHEDULE_SECONDS):
        return None
    if error.error_code == PAUSE_CODE:
        return PAUSE_SECONDS
    if error.retryable or isinstance(error, TencentRateLimited):
        return RESCHEDULE_SECONDS[rescheduled]
    return None
