"""The Tencent app the stubbed-HTTP tests call: its credentials, and a client on a fake clock."""

from typing import Any

from muteadmin.tencent.client import TencentClient

SDKAPPID = 1400000001
# The example key of Tencent's UserSig documentation.
SECRET_KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"
ADMIN = "administrator"
BASE_URL = "https://console.tim.qq.com"
OK = {"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": ""}


def tencent_client(clock: Any, *, base_url: str = BASE_URL, **options: Any) -> TencentClient:
    """A client of the example app at `base_url`, keeping time and waiting by `clock`."""
    return TencentClient(
        sdkappid=SDKAPPID,
        secret_key=SECRET_KEY,
        identifier=ADMIN,
        base_url=base_url,
        clock=clock.time,
        monotonic=clock.time,
        sleep=clock.sleep,
        **options,
    )
