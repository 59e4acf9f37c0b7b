"""A requests transport adapter that answers Tencent REST calls in-process from the emulator."""

import io
import time
from collections.abc import Iterable, Sequence
from datetime import timedelta
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

from requests import PreparedRequest, Response, exceptions
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import HTTPResponse

from muteadmin.sandbox import services
from muteadmin.sandbox.credentials import SandboxCredentials, sandbox_credentials
from muteadmin.sandbox.runtime import SandboxRuntime, sandbox_runtime
from muteadmin.tencent.redaction import redact
from muteadmin.tencent.transport import request_written

# `.invalid` never resolves, so a session without the adapter mounted fails instead of leaking.
SANDBOX_BASE_URL = "https://sandbox.muteadmin.invalid"


class SandboxAdapter(BaseAdapter):
    """Mount on a session at SANDBOX_BASE_URL to have the emulator answer instead of Tencent.

    Every call first takes the oldest queued fault, if any, then waits TIM_SANDBOX_LATENCY_MS.
    A latency longer than the request's read timeout waits only the read timeout, and a "timeout"
    fault waits nothing more; both raise ReadTimeout and leave the state untouched.

    `credentials` are the apps it answers: one, or several told apart by the SDKAppID in the
    URL; a call naming none of them is checked against the first and so refused as Tencent
    refuses an SDKAppID it does not know.
    """

    def __init__(
        self,
        *,
        credentials: SandboxCredentials | Sequence[SandboxCredentials] | None = None,
        runtime: SandboxRuntime | None = None,
    ):
        super().__init__()
        # None: the sandbox's own app and the runtime in force, looked up per call.
        if isinstance(credentials, SandboxCredentials):
            credentials = [credentials]
        self.credentials = tuple(credentials or ())
        if len({app.sdkappid for app in self.credentials}) != len(self.credentials):
            raise ValueError("Each sandbox app needs its own SDKAppID.")
        self.runtime = runtime

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> Response:
        """Answer `request` as Tencent would, or fail the way a queued fault says."""
        started = time.monotonic()
        # The request arrives now: the shared rate limiter counts it as sent from here.
        request_written()
        method = request.method or "GET"
        where = f"{method} {redact(request.url or '')}"
        read_timeout = _read_timeout(timeout)
        try:
            answer = services.sandbox_exchange(
                method=method,
                url=request.url or "",
                body=_body_bytes(request.body),
                credentials=self._credentials_for(request.url or ""),
                runtime=self.runtime or sandbox_runtime(),
                read_timeout=read_timeout,
            )
        except services.SandboxRefused:
            raise exceptions.ConnectionError(
                f"Sandbox emulator refused the connection: {where}", request=request
            ) from None
        except services.SandboxTimedOut:
            raise exceptions.ReadTimeout(
                _timeout_message(where, read_timeout), request=request
            ) from None
        return _response(request, answer, elapsed=time.monotonic() - started, connection=self)

    def close(self) -> None:
        """Nothing to release: no sockets are opened."""

    def _credentials_for(self, url: str) -> SandboxCredentials:
        """The app whose SDKAppID the URL names, else the first (whose checks then refuse it)."""
        if not self.credentials:
            return sandbox_credentials()
        query = parse_qsl(urlsplit(url).query)
        # The first sdkappid in the URL, as the emulator reads it.
        named = next((value for name, value in query if name == "sdkappid"), "")
        for app in self.credentials:
            if str(app.sdkappid) == named:
                return app
        return self.credentials[0]


def _read_timeout(timeout: object) -> float | None:
    if isinstance(timeout, tuple):
        return timeout[1]
    if isinstance(timeout, int | float):
        return float(timeout)
    # urllib3's Timeout object, or None.
    return getattr(timeout, "read_timeout", None)


def _timeout_message(where: str, read_timeout: float | None) -> str:
    return f"Sandbox emulator read timed out (read timeout={read_timeout}): {where}"


def _body_bytes(body: object) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    if hasattr(body, "read"):
        return _body_bytes(body.read())
    if isinstance(body, Iterable):
        return b"".join(_body_bytes(chunk) for chunk in body)
    raise TypeError(f"Unsupported request body type {type(body).__name__}")


def _response(
    request: PreparedRequest,
    answer: services.SandboxAnswer,
    *,
    elapsed: float,
    connection: BaseAdapter,
) -> Response:
    """A requests Response that reads its body from `answer`, like one built from a socket."""
    response = Response()
    response.status_code = answer.status
    response.reason = HTTPStatus(answer.status).phrase
    response.headers = CaseInsensitiveDict(answer.headers())
    response.encoding = get_encoding_from_headers(response.headers)
    response.raw = HTTPResponse(
        body=io.BytesIO(answer.body),
        headers=answer.headers(),
        status=answer.status,
        reason=response.reason,
        preload_content=False,
        decode_content=False,
    )
    response.url = request.url or ""
    response.request = request
    response.connection = connection
    response.elapsed = timedelta(seconds=elapsed)
    return response
