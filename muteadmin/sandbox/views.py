"""The emulator's HTTP face: Tencent's REST gateway as a view, answering as the adapter does."""

import logging
from http import HTTPStatus

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from muteadmin.sandbox import services
from muteadmin.sandbox.credentials import SandboxCredentials, emulator_expected_credentials
from muteadmin.sandbox.protocol import protocol_error_body
from muteadmin.sandbox.runtime import SandboxRuntime, sandbox_runtime

logger = logging.getLogger(__name__)

# REST bodies are tiny; anything bigger is refused unread.
MAX_BODY_BYTES = 64 * 1024
# Tencent's "system error, try again" for these endpoints; answered when the database fails.
SYSTEM_ERROR = 130014


class EmulatorHangUp(ConnectionAbortedError):
    """The emulator ends the exchange without a word; a WSGI server drops the connection."""


# A machine API that checks UserSigs itself: no session, no CSRF token, under any middleware.
@method_decorator([csrf_exempt, login_not_required], name="dispatch")
class EmulatorView(View):
    """Answers every method on every path, since Tencent's gateway answers them all itself.

    Checks UserSigs against TIM_SDKAPPID/TIM_SECRET_KEY when set, else against the sandbox's app.
    A "refused" fault hangs up at once; a "timeout" fault hangs up after `hold_seconds`.
    """

    credentials: SandboxCredentials | None = None
    runtime: SandboxRuntime | None = None

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        refusal = _body_refusal(request)
        if refusal is not None:
            return refusal
        runtime = self.runtime or sandbox_runtime()
        try:
            answer = services.sandbox_exchange(
                method=request.method or "GET",
                url=request.get_full_path(),
                body=request.body,
                credentials=self.credentials or emulator_expected_credentials(),
                runtime=runtime,
            )
        except services.SandboxRefused:
            # Closing without a word is the nearest an accepted connection gets to a refusal.
            raise EmulatorHangUp("refused fault") from None
        except services.SandboxTimedOut:
            runtime.sleep(runtime.hold_seconds)
            raise EmulatorHangUp("timeout fault") from None
        except DatabaseError:
            logger.exception("Sandbox state could not be read or written")
            answer = services.SandboxAnswer(
                status=HTTPStatus.OK,
                body=protocol_error_body(SYSTEM_ERROR, "System error; try again."),
            )
        return HttpResponse(answer.body, status=answer.status, headers=answer.headers())


def _body_refusal(request: HttpRequest) -> HttpResponse | None:
    """The answer to a body the emulator will not read, or None for one it will."""
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        return _plain(HTTPStatus.LENGTH_REQUIRED, "Send a Content-Length.")
    try:
        length = int(request.headers.get("Content-Length") or "0")
    except ValueError:
        return _plain(HTTPStatus.BAD_REQUEST, "Content-Length is not a number.")
    if not 0 <= length <= MAX_BODY_BYTES:
        return _plain(
            HTTPStatus.CONTENT_TOO_LARGE, f"Bodies are limited to {MAX_BODY_BYTES} bytes."
        )
    return None


def _plain(status: HTTPStatus, message: str) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
