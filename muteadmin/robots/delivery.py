"""Sending one delivery: claim it, write the message, POST it, record how it went.

The worker runs this (tasks.py); a failure worth retrying is tried again after 30 s, 1, 2, 4
and 8 minutes (six attempts in all), anything else ends the delivery as failed. A destination
whose attempts have all failed since `failing_since` is paused a day later (pausing.py).
"""

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.db import transaction
from django.db.models import Q

from muteadmin.core.clock import clock
from muteadmin.robots.formats import Verdict, answer_read, request_build
from muteadmin.robots.masking import secrets_removed
from muteadmin.robots.models import EVENT_TEST, Delivery, Destination
from muteadmin.robots.texts import message_render
from muteadmin.tencent.redaction import redaction_install

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_FIRST_SECONDS = 30
# Connect and read: a chat service that takes longer is treated as down for this attempt.
TIMEOUT = (5.0, 10.0)
# Answers are read only this far: a sentence of error at most is kept.
ANSWER_BYTES = 4096

_local = threading.local()


def robots_session() -> requests.Session:
    """This thread's one session for chat services (every request through it has a timeout)."""
    session = getattr(_local, "session", None)
    if session is None:
        # urllib3 logs each request's address (a WeCom key, a DingTalk token) at DEBUG.
        redaction_install()
        session = _local.session = requests.Session()
    return session


def robots_now() -> datetime:
    """The time deliveries are stamped and signed by: the clock in force (a test's fake)."""
    return datetime.fromtimestamp(clock().time(), UTC)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: 30 s, doubling each time."""
    return timedelta(seconds=BACKOFF_FIRST_SECONDS * 2 ** (attempts - 1))


@dataclass(frozen=True)
class Attempt:
    """What one attempt left: the delivery's status and, when it waits to retry, until when."""

    status: str
    next_attempt_at: datetime | None = None


def delivery_attempt(*, delivery_id: int, session: requests.Session | None = None) -> Attempt:
    """Send the delivery now if it is waiting (else do nothing and say its status)."""
    now = robots_now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status__in=[Delivery.Status.QUEUED, Delivery.Status.RETRYING]
    ).update(status=Delivery.Status.SENDING, last_attempt_at=now)
    delivery = Delivery.objects.select_related("destination").filter(pk=delivery_id).first()
    if delivery is None:
        return Attempt(status="gone")
    if not claimed:
        return Attempt(status=delivery.status)
    destination = delivery.destination
    if destination.paused and delivery.event != EVENT_TEST:
        _finish(delivery, Delivery.Status.SKIPPED, now=now, error="The destination is paused.")
        return Attempt(status=Delivery.Status.SKIPPED)
    verdict = _send(delivery, destination, session or robots_session(), now=now)
    return _record(delivery, destination, verdict, now=now)


def _send(
    delivery: Delivery, destination: Destination, session: requests.Session, *, now: datetime
) -> Verdict:
    message = message_render(delivery.event, delivery.facts, language=destination.language)
    outgoing = request_build(
        kind=destination.kind,
        url=destination.url,
        secret=destination.secret,
        message=message,
        event=delivery.event,
        facts=delivery.facts,
        delivery_id=delivery.pk,
        language=destination.language,
        now=now.timestamp(),
    )
    host = urlsplit(destination.url).hostname or "the service"
    try:
        with session.post(
            outgoing.url,
            data=outgoing.body,
            headers=outgoing.headers,
            timeout=TIMEOUT,
            allow_redirects=False,
            stream=True,
        ) as response:
            answer = response.raw.read(ANSWER_BYTES, decode_content=True) or b""
            status = response.status_code
    except requests.Timeout:
        return Verdict(ok=False, retry=True, error=f"{host} did not answer in time.")
    except requests.RequestException as exc:
        # The exception's text holds the whole address (and its key): only its kind is kept.
        return Verdict(
            ok=False, retry=True, error=f"Could not reach {host} ({type(exc).__name__})."
        )
    verdict = answer_read(
        kind=destination.kind, status=status, body=answer.decode(errors="replace")
    )
    error = secrets_removed(verdict.error, url=destination.url, secret=destination.secret)
    return Verdict(ok=verdict.ok, retry=verdict.retry, error=error)


def _record(
    delivery: Delivery, destination: Destination, verdict: Verdict, *, now: datetime
) -> Attempt:
    attempts = delivery.attempts + 1
    if verdict.ok:
        with transaction.atomic():
            _finish(delivery, Delivery.Status.SENT, now=now, attempts=attempts)
            Destination.objects.filter(pk=destination.pk).update(
                failing_since=None, last_success_at=now
            )
        return Attempt(status=Delivery.Status.SENT)
    logger.warning(
        "Notification %s to destination %s failed (attempt %s): %s",
        delivery.pk,
        destination.name,
        attempts,
        verdict.error,
    )
    with transaction.atomic():
        # The first failure since the last success starts the day that pauses a destination.
        Destination.objects.filter(Q(pk=destination.pk) & Q(failing_since__isnull=True)).update(
            failing_since=now
        )
        if verdict.retry and attempts < MAX_ATTEMPTS and delivery.event != EVENT_TEST:
            wait_until = now + backoff(attempts)
            Delivery.objects.filter(pk=delivery.pk).update(
                status=Delivery.Status.RETRYING,
                attempts=attempts,
                last_error=verdict.error,
                next_attempt_at=wait_until,
            )
            return Attempt(status=Delivery.Status.RETRYING, next_attempt_at=wait_until)
        _finish(delivery, Delivery.Status.FAILED, now=now, attempts=attempts, error=verdict.error)
    return Attempt(status=Delivery.Status.FAILED)


def _finish(
    delivery: Delivery, status: str, *, now: datetime, attempts: int | None = None, error: str = ""
) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status,
        attempts=delivery.attempts if attempts is None else attempts,
        last_error=error,
        next_attempt_at=None,
        finished_at=now,
    )
