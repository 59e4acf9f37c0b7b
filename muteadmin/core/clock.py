"""The clock the door to Tencent keeps time by: real by default, a test's fake through a setting.

`settings.MUTEADMIN_CLOCK`, when set, is an object with `time()`, `monotonic()` and
`sleep(seconds)`; the clients' retry waits and deadlines and the services' deadline arithmetic
read it, so a test can make a slow Tencent cost no real time.
"""

import time
from typing import Protocol

from django.conf import settings


class Clock(Protocol):
    def time(self) -> float: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clocks and a real sleep."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


def clock() -> Clock:
    """The clock in force: settings.MUTEADMIN_CLOCK when one is set, else the system's."""
    return getattr(settings, "MUTEADMIN_CLOCK", None) or SYSTEM_CLOCK
