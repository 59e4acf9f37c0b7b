"""`manage.py tim_emulator --port N`: serve the sandbox emulator over HTTP for other clients."""

import logging
import socket
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections

from muteadmin.sandbox import services
from muteadmin.sandbox.credentials import SandboxCredentials, emulator_expected_credentials
from muteadmin.sandbox.models import SandboxFault
from muteadmin.sandbox.protocol import protocol_error_body
from muteadmin.tencent.redaction import redact

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
# How long a "timeout" fault holds a request before dropping it: longer than any sane read timeout.
TIMEOUT_FAULT_SECONDS = 30.0
# REST bodies are tiny; anything bigger is refused unread.
MAX_BODY_BYTES = 64 * 1024
# Tencent's "system error, try again" for these endpoints; answered when the database fails.
SYSTEM_ERROR = 130014


class EmulatorServer(ThreadingHTTPServer):
    """An HTTP server answering Tencent REST calls from the sandbox's database-backed state."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        credentials: SandboxCredentials,
        timeout_fault_seconds: float = TIMEOUT_FAULT_SECONDS,
    ):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, EmulatorRequestHandler)
        self.credentials = credentials
        self.timeout_fault_seconds = timeout_fault_seconds

    @property
    def base_url(self) -> str:
        """The URL to put in TIM_API_BASE_URL."""
        host, port = self.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class EmulatorRequestHandler(BaseHTTPRequestHandler):
    """Feeds each HTTP request through the sandbox services; access lines never show the UserSig."""

    server: EmulatorServer
    protocol_version = "HTTP/1.1"
    server_version = "muteadmin-tim-emulator"

    def handle(self) -> None:
        try:
            super().handle()
        finally:
            # One thread per connection: close its database connections when it ends.
            connections.close_all()

    def do_POST(self) -> None:
        self._serve()

    # Other methods reach the protocol core too, which refuses them as Tencent's gateway would.
    do_GET = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_POST

    def _serve(self) -> None:
        body = self._body_read()
        if body is None:
            return
        fault = services.sandbox_fault_take()
        if fault is not None and fault.kind == SandboxFault.Kind.REFUSED:
            # Closing without a word is the nearest an accepted connection gets to a refusal.
            self.close_connection = True
            return
        latency = services.sandbox_latency_seconds()
        if latency:
            time.sleep(latency)
        if fault is not None and fault.kind == SandboxFault.Kind.TIMEOUT:
            time.sleep(self.server.timeout_fault_seconds)
            self.close_connection = True
            return
        if fault is not None:
            answer = services.sandbox_fault_answer(fault)
        else:
            try:
                answer = services.sandbox_call(
                    method=self.command,
                    url=self.path,
                    body=body,
                    credentials=self.server.credentials,
                    now=services.sandbox_now(),
                )
            except DatabaseError:
                logger.exception("Sandbox state could not be read or written")
                answer = services.SandboxAnswer(
                    status=HTTPStatus.OK,
                    body=protocol_error_body(SYSTEM_ERROR, "System error; try again."),
                )
        self.send_response(answer.status)
        for name, value in answer.headers().items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)

    def _body_read(self) -> bytes | None:
        """The request body, or None after refusing a body the emulator will not read."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.send_error(HTTPStatus.LENGTH_REQUIRED, "Send a Content-Length")
            return None
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            self.send_error(HTTPStatus.BAD_REQUEST, "Content-Length is not a number")
            return None
        if not 0 <= length <= MAX_BODY_BYTES:
            message = f"Bodies are limited to {MAX_BODY_BYTES} bytes"
            self.send_error(HTTPStatus.CONTENT_TOO_LARGE, message)
            return None
        return self.rfile.read(length)

    def log_message(self, format: str, *args: object) -> None:
        # The request line carries the UserSig: redact before anything sees it.
        logger.info("%s %s", self.address_string(), redact(format % args))


class Command(BaseCommand):
    help = (
        "Serve the sandbox emulator of Tencent's global-mute REST API over HTTP, checking "
        "UserSigs against TIM_SDKAPPID/TIM_SECRET_KEY/TIM_ADMIN_IDENTIFIER (or the sandbox app)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, required=True, help="TCP port (0: any free one).")
        parser.add_argument("--host", default=DEFAULT_HOST, help="Address to listen on.")

    def handle(self, *args, host: str, port: int, **options) -> None:
        try:
            credentials = emulator_expected_credentials()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        try:
            server = EmulatorServer((host, port), credentials=credentials)
        except OSError as exc:
            raise CommandError(f"Cannot listen on {host}:{port}: {exc.strerror}") from exc
        key_source = (
            "the sandbox key derived from SECRET_KEY"
            if settings.TIM_SDKAPPID is None
            else "TIM_SECRET_KEY"
        )
        self.stdout.write(f"Tencent Chat REST emulator listening on {server.base_url}")
        self.stdout.write(
            f"Expecting SDKAppID {credentials.sdkappid} and admin identifier "
            f"{credentials.identifier!r}, UserSigs signed with {key_source}."
        )
        self.stdout.write(f"Point clients at it with TIM_API_BASE_URL={server.base_url}")
        self.stdout.write("Quit with CONTROL-C.")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
