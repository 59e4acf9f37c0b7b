"""A local stand-in for Tencent's REST endpoint that records when each call arrives.

It answers getnospeaking and setnospeaking the way Tencent does (HTTP 200, ErrorCode 0 JSON)
after a fixed latency, and counts arrivals in its own strict sliding one-second window per API:
a call that would make more than `cap` in any window is answered with ErrorCode 60007, as
Tencent answers. Plain HTTP, or HTTPS with a self-signed certificate made at start.
"""

import json
import ssl
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FREQ_LIMIT = 60007
WINDOW_SECONDS = 1.0
_ANSWERS = {
    "getnospeaking": {"C2CmsgNospeakingTime": 0, "GroupmsgNospeakingTime": 0},
    "setnospeaking": {},
}


@dataclass
class Arrivals:
    """When each call arrived (time.time()), and how many were refused with 60007.

    `accounts[i]` is the account the call at `stamps[i]` named (Get_Account or Set_Account).
    """

    cap: int
    stamps: list[float] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    refused: int = 0
    _windows: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, api: str, *, account: str = "") -> bool:
        """Record a call arriving now; False if it makes more than `cap` in one second."""
        with self._lock:
            # Read under the lock, so the record stays in order whichever thread gets here first.
            now = time.time()
            self.stamps.append(now)
            self.accounts.append(account)
            window = self._windows.setdefault(api, deque())
            while window and window[0] <= now - WINDOW_SECONDS:
                window.popleft()
            if len(window) >= self.cap:
                self.refused += 1
                return False
            window.append(now)
            return True


def _account_named(body: bytes) -> str:
    """The account a call's JSON body names, or "" for none."""
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        return ""
    if not isinstance(document, dict):
        return ""
    return str(document.get("Get_Account") or document.get("Set_Account") or "")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    tls: ssl.SSLContext | None = None
    handshake_delay = 0.0

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake, in the connection's own thread, so a slow one holds up no other.
        if self.tls is not None:
            time.sleep(self.handshake_delay)
            request = self.tls.wrap_socket(request, server_side=True)
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that leaves closes its kept-alive connections mid-read: not worth a traceback.
        pass


@contextmanager
def receiver_serving(
    *, cap: int, latency: float, tls_dir: Path | None = None, handshake_delay: float = 0.0
) -> Iterator[tuple[str, Arrivals]]:
    """Serve on 127.0.0.1 in background threads; yield the base URL and the arrivals record.

    With `tls_dir`, serve HTTPS with a certificate for 127.0.0.1 written there as cert.pem,
    each handshake answered `handshake_delay` seconds late, as a distant server's would be.
    """
    arrivals = Arrivals(cap=cap)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the client's pooled connections expect

        def do_POST(self) -> None:  # the name http.server calls
            # Arrived: the request line and headers are read, and the small body sent with them.
            api = self.path.split("?", 1)[0].rsplit("/", 1)[-1]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            admitted = arrivals.admit(api, account=_account_named(body))
            time.sleep(latency)
            if admitted:
                payload = {"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "", **_ANSWERS[api]}
            else:
                payload = {"ActionStatus": "FAIL", "ErrorCode": FREQ_LIMIT, "ErrorInfo": "freq"}
            body = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    scheme = "http"
    if tls_dir is not None:
        server.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.tls.load_cert_chain(*self_signed_certificate(tls_dir))
        server.handshake_delay = handshake_delay
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}", arrivals
    finally:
        server.shutdown()
        server.server_close()


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """Write cert.pem and key.pem for 127.0.0.1 into `directory` with openssl; return both."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    command += ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    # openssl from PATH with fixed arguments and the bench's own file names.
    subprocess.run(  # noqa: S603
        [*command, "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True
    )
    return cert, key
