"""Every Tencent Chat REST API muteadmin calls, with the cap Tencent sets on it for each app.

Adding an API: one entry here, one typed wrapper module beside this one, one handler in the
emulator. The shared rate limiter keys its windows by (app, API) and reads the cap from here.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Api:
    """One REST API: its path under the base URL and Tencent's documented calls per second."""

    path: str
    cap_per_second: int

    @property
    def name(self) -> str:
        """The last part of the path, as Tencent's pages and error messages name the API."""
        return self.path.rsplit("/", 1)[-1]


# docs: "Querying Global Mute" and "Setting Global Mute", API frequency limit 200 calls/s each.
GET_NOSPEAKING = Api("v4/openconfigsvr/getnospeaking", cap_per_second=200)
SET_NOSPEAKING = Api("v4/openconfigsvr/setnospeaking", cap_per_second=200)
# docs: "Sending One-to-One Messages to One User", API frequency limit 200 calls/s.
SEND_MSG = Api("v4/openim/sendmsg", cap_per_second=200)

APIS: dict[str, Api] = {api.path: api for api in (GET_NOSPEAKING, SET_NOSPEAKING, SEND_MSG)}
