"""Each service's request (address, headers, body, signature) and how to read its answer.

The facts relied on, with their sources, are in docs/chat-robots.md. Nothing here touches the
network or the database: delivery.py sends what `request_build` returns.
"""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from muteadmin.robots.texts import Message

# The generic webhook's headers: the receiver recomputes the signature over
# "<timestamp>.<body>" with the shared secret and refuses timestamps older than its window.
HEADER_EVENT = "X-Muteadmin-Event"
HEADER_DELIVERY = "X-Muteadmin-Delivery"
HEADER_TIMESTAMP = "X-Muteadmin-Timestamp"
HEADER_SIGNATURE = "X-Muteadmin-Signature"
SIGNATURE_PREFIX = "sha256="
REPLAY_WINDOW_SECONDS = 300

# WeCom takes at most 2048 bytes of text content.
WECOM_TEXT_BYTES = 2048
# Answers that mean "too many messages, try later" rather than "this will never work".
WECOM_RATE_LIMITED = {45009}
DINGTALK_RATE_LIMITED = {130101}
FEISHU_RATE_LIMITED = {11232}
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


@dataclass(frozen=True)
class Outgoing:
    """One HTTP POST, ready to send."""

    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Verdict:
    """How an answer reads: delivered, worth another try later, and the error in a sentence."""

    ok: bool
    retry: bool = False
    error: str = ""


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def dingtalk_sign(*, timestamp_ms: int, secret: str) -> str:
    """DingTalk's `sign`: HMAC-SHA256 keyed with the secret over "<timestamp>\\n<secret>",
    base64, then URL-encoded."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return quote_plus(base64.b64encode(digest).decode())


def feishu_sign(*, timestamp: int, secret: str) -> str:
    """Feishu's `sign`: HMAC-SHA256 keyed with "<timestamp>\\n<secret>" over nothing, base64."""
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_sign(*, timestamp: int, body: bytes, secret: str) -> str:
    """The generic webhook's signature header: "sha256=" and the hex HMAC-SHA256 keyed with the
    secret over "<timestamp>." followed by the body's bytes."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SIGNATURE_PREFIX + digest.hexdigest()


def _wecom_text(text: str) -> str:
    encoded = text.encode()
    if len(encoded) <= WECOM_TEXT_BYTES:
        return text
    return encoded[: WECOM_TEXT_BYTES - 3].decode(errors="ignore") + "…"


def _slack_escaped(text: str) -> str:
    # Slack reads &, < and > as markup (<!channel> would notify a whole channel).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def request_build(
    *,
    kind: str,
    url: str,
    secret: str,
    message: Message,
    event: str,
    facts: dict[str, Any],
    delivery_id: int,
    language: str,
    now: float,
) -> Outgoing:
    """The POST that tells `kind`'s service `message`, signed with `secret` at time `now`."""
    if kind == "wecom":
        body = {"msgtype": "text", "text": {"content": _wecom_text(message.plain)}}
        return Outgoing(url, dict(JSON_HEADERS), _json(body))
    if kind == "dingtalk":
        body = {"msgtype": "text", "text": {"content": message.plain}}
        if secret:
            stamp = int(now * 1000)
            sign = dingtalk_sign(timestamp_ms=stamp, secret=secret)
            url = f"{url}{'&' if '?' in url else '?'}timestamp={stamp}&sign={sign}"
        return Outgoing(url, dict(JSON_HEADERS), _json(body))
    if kind == "feishu":
        body = {"msg_type": "text", "content": {"text": message.plain}}
        if secret:
            stamp = int(now)
            body = {"timestamp": str(stamp), "sign": feishu_sign(timestamp=stamp, secret=secret)}
            body |= {"msg_type": "text", "content": {"text": message.plain}}
        return Outgoing(url, dict(JSON_HEADERS), _json(body))
    if kind == "slack":
        text = f"*{_slack_escaped(message.title)}*\n{_slack_escaped(message.text)}"
        return Outgoing(url, dict(JSON_HEADERS), _json({"text": text}))
    return _webhook(url, secret, message, event, facts, delivery_id, language, int(now))


def _webhook(
    url: str,
    secret: str,
    message: Message,
    event: str,
    facts: dict[str, Any],
    delivery_id: int,
    language: str,
    stamp: int,
) -> Outgoing:
    body = _json(
        {
            "event": event,
            "delivery": delivery_id,
            "timestamp": stamp,
            "language": language,
            "title": message.title,
            "text": message.text,
            "facts": facts,
        }
    )
    headers = dict(JSON_HEADERS) | {
        HEADER_EVENT: event,
        HEADER_DELIVERY: str(delivery_id),
        HEADER_TIMESTAMP: str(stamp),
        HEADER_SIGNATURE: webhook_sign(timestamp=stamp, body=body, secret=secret),
    }
    return Outgoing(url, headers, body)


def answer_read(*, kind: str, status: int, body: str) -> Verdict:
    """What the service's answer means: delivered, try again later, or give up (and why)."""
    if status == 429 or status >= 500:
        return Verdict(ok=False, retry=True, error=f"The service answered HTTP {status}.")
    if kind in ("wecom", "dingtalk", "feishu") and status == 200:
        return _coded(kind, body)
    if kind == "slack" and status == 200:
        if body.strip() == "ok":
            return Verdict(ok=True)
        return Verdict(ok=False, error=f"Slack answered {_snippet(body)!r} instead of ok.")
    if 200 <= status < 300 and kind == "webhook":
        return Verdict(ok=True)
    detail = f": {_snippet(body)}" if body.strip() else ""
    return Verdict(ok=False, error=f"The service refused the message with HTTP {status}{detail}.")


def _coded(kind: str, body: str) -> Verdict:
    """WeCom and DingTalk answer {"errcode": 0, ...}; Feishu {"code": 0, ...}."""
    try:
        answer = json.loads(body)
    except ValueError:
        return Verdict(ok=False, retry=True, error="The service's answer was not JSON.")
    if not isinstance(answer, dict):
        return Verdict(ok=False, retry=True, error="The service's answer was not a JSON object.")
    if kind == "feishu":
        code = answer.get("code", answer.get("StatusCode"))
        words = answer.get("msg", answer.get("StatusMessage", ""))
        limited = FEISHU_RATE_LIMITED
    else:
        code, words = answer.get("errcode"), answer.get("errmsg", "")
        limited = WECOM_RATE_LIMITED if kind == "wecom" else DINGTALK_RATE_LIMITED
    if code == 0:
        return Verdict(ok=True)
    return Verdict(
        ok=False,
        retry=code in limited,
        error=f"The service answered code {code}: {_snippet(str(words))}",
    )


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat[:200] + ("…" if len(flat) > 200 else "")
