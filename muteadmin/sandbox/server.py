"""A threaded wsgiref server for the emulator's WSGI application, over HTTP or HTTPS."""

import logging
import socket
import ssl
import sys
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.db import connections

from muteadmin.sandbox.wsgi import emulator_application
from muteadmin.tencent.redaction import redact

logger = logging.getLogger(__name__)


class EmulatorServer(ThreadingMixIn, WSGIServer):
    """One thread per request, so a held "timeout" fault never stalls the other callers."""

    daemon_threads = True
    tls = False

    def __init__(self, address: tuple[str, int], *args: Any, **kwargs: Any):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, *args, **kwargs)

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        """Log a request that failed below the application: a TLS handshake, a vanished client."""
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            logger.warning("Request from %s failed: %s", client_address[0], error)
        else:
            logger.exception("Request from %s failed", client_address[0])

    @property
    def base_url(self) -> str:
        """The URL to put in TIM_API_BASE_URL."""
        host, port = self.server_address[:2]
        scheme = "https" if self.tls else "http"
        return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


class EmulatorRequestHandler(WSGIRequestHandler):
    """Closes its thread's database connections when done; access lines never show the UserSig."""

    server: EmulatorServer

    def handle(self) -> None:
        try:
            super().handle()
        finally:
            connections.close_all()

    def get_environ(self) -> dict[str, str]:
        environ = super().get_environ()
        if self.server.tls:
            environ["HTTPS"] = "on"
        return environ

    def log_message(self, format: str, *args: object) -> None:
        # The request line carries the UserSig: redact before anything sees it.
        logger.info("%s %s", self.address_string(), redact(format % args))


def emulator_server(
    *, host: str, port: int, certfile: str | None = None, keyfile: str | None = None
) -> EmulatorServer:
    """A server bound to host:port (0: any free port), serving HTTPS when given a certificate.

    Raises OSError when the address cannot be taken or the certificate files cannot be read,
    ssl.SSLError when they hold no usable certificate and key.
    """
    context = None
    if certfile is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)
    server = make_server(
        host,
        port,
        emulator_application,
        server_class=EmulatorServer,
        handler_class=EmulatorRequestHandler,
    )
    if context is not None:
        # The handshake then happens on the request's own thread: a slow client cannot stall
        # the loop that accepts connections.
        server.socket = context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
        server.tls = True
    return server
