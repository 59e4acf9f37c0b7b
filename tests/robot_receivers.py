"""Local HTTP receivers standing in for WeCom, DingTalk, Feishu, Slack and a signed webhook.

Each is a real HTTP server on 127.0.0.1 in a thread. It checks what arrives as its service
documents it (docs/chat-robots.md): the address, the body's shape, and the signature, which it
recomputes itself from the shared secret, never through the product's code. It answers as the
service does: success, or the service's own refusal when something does not hold. A test can
queue other answers first (a 500, a rate-limit code).
"""

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ONE_HOUR = 3600
# The secret part of a receiver's address when a test names none.
ADDRESS_TOKEN = "tok-0123456789abcdef"
WEBHOOK_WINDOW = 300


@dataclass
class Arrival:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What a receiver was sent, what it found wrong, and answers queued before its own."""

    kind: str
    secret: str
    token: str
    now: Callable[[], float]
    base_url: str = ""
    arrivals: list[Arrival] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    queued: list[tuple[int, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The destination address, shaped as the service hands it out."""
        return (
            self.base_url
            + {
                "wecom": f"/cgi-bin/webhook/send?key={self.token}",
                "dingtalk": f"/robot/send?access_token={self.token}",
                "feishu": f"/open-apis/bot/v2/hook/{self.token}",
                "slack": f"/services/T0001/B0001/{self.token}",
                "webhook": f"/hooks/muteadmin?token={self.token}",
            }[self.kind]
        )

    def texts(self) -> list[str]:
        """The message text of each arrival, as the service would show it."""
        return [_text(self.kind, arrival) for arrival in self.arrivals]

    def answer(self, arrival: Arrival) -> tuple[int, str]:
        self.arrivals.append(arrival)
        if self.queued:
            return self.queued.pop(0)
        problem = CHECKS[self.kind](self, arrival)
        if problem:
            self.problems.append(problem)
        return ANSWERS[self.kind](problem)


def _text(kind: str, arrival: Arrival) -> str:
    body = arrival.json()
    if kind in ("wecom", "dingtalk"):
        return body["text"]["content"]
    if kind == "feishu":
        return body["content"]["text"]
    if kind == "slack":
        return body["text"]
    return f"{body['title']}\n{body['text']}"


def _json_body(arrival: Arrival) -> dict | None:
    if not arrival.headers.get("content-type", "").startswith("application/json"):
        return None
    try:
        return json.loads(arrival.body)
    except ValueError:
        return None


def check_wecom(receiver: Receiver, arrival: Arrival) -> str:
    body = _json_body(arrival)
    if arrival.path != "/cgi-bin/webhook/send" or arrival.query.get("key") != [receiver.token]:
        return "invalid webhook url"
    if body is None or body.get("msgtype") != "text":
        return "invalid msgtype"
    content = body.get("text", {}).get("content")
    if not isinstance(content, str) or not content or len(content.encode()) > 2048:
        return "content exceed max length or empty"
    return ""


def check_dingtalk(receiver: Receiver, arrival: Arrival) -> str:
    body = _json_body(arrival)
    if arrival.path != "/robot/send" or arrival.query.get("access_token") != [receiver.token]:
        return "token is not exist"
    (stamp,) = arrival.query.get("timestamp", [""])
    (sign,) = arrival.query.get("sign", [""])
    # As DingTalk documents: HmacSHA256 keyed with the secret over "timestamp\nsecret", base64.
    expected = base64.b64encode(
        hmac.new(
            receiver.secret.encode(), f"{stamp}\n{receiver.secret}".encode(), hashlib.sha256
        ).digest()
    ).decode()
    if not stamp.isdigit() or abs(receiver.now() * 1000 - int(stamp)) > ONE_HOUR * 1000:
        return "timestamp is not within one hour"
    if not hmac.compare_digest(sign, expected):
        return "sign not match"
    if body is None or body.get("msgtype") != "text" or not body.get("text", {}).get("content"):
        return "param error"
    return ""


def check_feishu(receiver: Receiver, arrival: Arrival) -> str:
    body = _json_body(arrival) or {}
    if arrival.path != f"/open-apis/bot/v2/hook/{receiver.token}":
        return "webhook not found"
    stamp, sign = str(body.get("timestamp", "")), body.get("sign", "")
    # As Feishu documents: HmacSHA256 keyed with "timestamp\nsecret" over an empty message.
    expected = base64.b64encode(
        hmac.new(f"{stamp}\n{receiver.secret}".encode(), b"", hashlib.sha256).digest()
    ).decode()
    if not stamp.isdigit() or abs(receiver.now() - int(stamp)) > ONE_HOUR:
        return "timestamp is not within one hour from current time"
    if not hmac.compare_digest(str(sign), expected):
        return "sign match fail"
    if body.get("msg_type") != "text" or not body.get("content", {}).get("text"):
        return "Bad Request"
    return ""


def check_slack(receiver: Receiver, arrival: Arrival) -> str:
    body = _json_body(arrival)
    if arrival.path != f"/services/T0001/B0001/{receiver.token}":
        return "no_service"
    if body is None or not isinstance(body.get("text"), str) or not body["text"]:
        return "invalid_payload"
    return ""


def check_webhook(receiver: Receiver, arrival: Arrival) -> str:
    stamp = arrival.headers.get("x-muteadmin-timestamp", "")
    signature = arrival.headers.get("x-muteadmin-signature", "")
    # The documented check: HMAC-SHA256 with the secret over "<timestamp>." + the raw body.
    expected = (
        "sha256="
        + hmac.new(
            receiver.secret.encode(), f"{stamp}.".encode() + arrival.body, hashlib.sha256
        ).hexdigest()
    )
    if not stamp.isdigit() or abs(receiver.now() - int(stamp)) > WEBHOOK_WINDOW:
        return "stale timestamp"
    if not hmac.compare_digest(signature, expected):
        return "bad signature"
    body = _json_body(arrival)
    if body is None or body.get("event") != arrival.headers.get("x-muteadmin-event"):
        return "bad body"
    return ""


CHECKS = {
    "wecom": check_wecom,
    "dingtalk": check_dingtalk,
    "feishu": check_feishu,
    "slack": check_slack,
    "webhook": check_webhook,
}


def _coded(code: int, words: str, *, field_names=("errcode", "errmsg")) -> tuple[int, str]:
    return 200, json.dumps({field_names[0]: code, field_names[1]: words})


ANSWERS = {
    "wecom": lambda problem: _coded(93000 if problem else 0, problem or "ok"),
    "dingtalk": lambda problem: _coded(310000 if problem else 0, problem or "ok"),
    "feishu": lambda problem: _coded(
        19021 if problem else 0, problem or "success", field_names=("code", "msg")
    ),
    "slack": lambda problem: (400, problem) if problem else (200, "ok"),
    "webhook": lambda problem: (401, problem) if problem else (204, ""),
}


@contextmanager
def receiving(
    kind: str, *, now: Callable[[], float], secret: str = "", token: str = ADDRESS_TOKEN
) -> Iterator[Receiver]:
    """A receiver of `kind` serving on 127.0.0.1 for the block."""
    receiver = Receiver(kind=kind, secret=secret, token=token, now=now)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            parts = urlsplit(self.path)
            arrival = Arrival(
                path=parts.path,
                query=parse_qs(parts.query),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=self.rfile.read(length),
            )
            status, text = receiver.answer(arrival)
            payload = text.encode()
            self.send_response(status)
            self.send_header(
                "Content-Type", "application/json" if text[:1] == "{" else "text/plain"
            )
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.base_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
