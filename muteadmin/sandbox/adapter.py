"""A requests transport adapter that answers Tencent REST calls in-process from the emulator."""

import io
import time
from collections.abc import Iterable
from datetime import timedelta
from http import HTTPStatus
from time import sleep

from requests import PreparedRequest, Response, exceptions
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import HTTPResponse

from muteadmin.sandbox import services
from muteadmin.sandbox.credentials import SandboxCredentials, sandbox_credentials
from muteadmin.sandbox.models import SandboxFault
from muteadmin.sandbox.protocol import RateLimiter
from muteadmin.tencent.redaction import redact
from muteadmin.tencent.transport import request_written

# `.invalid` never resolves, so a session without the adapter mounted fails instead of leaking.
SANDBOX_BASE_URL = "https://sandbox.muteadmin.invalid"


class SandboxAdapter(BaseAdapter):
    """Mount on a session at SANDBOX_BASE_URL to have the emulator answer instead of Tencent.

    Every call first takes the oldest queued fault, if any, then waits TIM_SANDBOX_LATENCY_MS.
    A latency longer than the request's read timeout, or a "timeout" fault, raises ReadTimeout
    at once (without sleeping the whole timeout) and leaves the state untouched.
    """

    def __init__(
        self,
        *,
        credentials: SandboxCredentials | None = None,
        rate_limiter: RateLimiter | None = None,
    ):
        super().__init__()
        # None: the sandbox's own app and the process-wide rate window, looked up per call.
        self.credentials = credentials
        self.rate_limiter = rate_limiter

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
        # The request arrives now: Tencent's rate window and the time it changes a mute count
        # from here, not from when the emulated latency has passed.
        arrived_at = services.sandbox_now()
        request_written()
        method = request.method or "GET"
        where = f"{method} {redact(request.url or '')}"
        read_timeout = _read_timeout(timeout)

        fault = services.sandbox_fault_take()
        if fault is not None and fault.kind == SandboxFault.Kind.REFUSED:
            raise exceptions.ConnectionError(
                f"Sandbox emulator refused the connection: {where}", request=request
            )
        latency = services.sandbox_latency_seconds()
        if read_timeout is not None and latency > read_timeout:
            sleep(read_timeout)
            raise exceptions.ReadTimeout(_timeout_message(where, read_timeout), request=request)
        if latency:
            sleep(latency)
        if fault is not None and fault.kind == SandboxFault.Kind.TIMEOUT:
            raise exceptions.ReadTimeout(_timeout_message(where, read_timeout), request=request)

        if fault is not None:
            answer = services.sandbox_fault_answer(fault)
        else:
            answer = services.sandbox_call(
                method=method,
                url=request.url or "",
                body=_body_bytes(request.body),
                credentials=self.credentials or sandbox_credentials(),
                now=arrived_at,
                limiter=self.rate_limiter,
            )
        return _response(request, answer, elapsed=time.monotonic() - started, connection=self)

    def close(self) -> None:
        """Nothing to release: no sockets are opened."""


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
