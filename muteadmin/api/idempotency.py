"""`Idempotency-Key` on POSTs: a retry with the same key gets the first answer and sends nothing.

The first request with a key stores a row for (token, key) before it acts, and its answer after;
the unique pair lets only one of two concurrent duplicates run (the other is told to retry
shortly). A retry whose body or address differs from the first one's is refused (422): the key
names one request. Answers are kept for KEEP (24 h), then the key may be used afresh. A request
that ends in a fault on our side keeps no answer, so its retry runs again.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from muteadmin.api.models import IdempotentAnswer
from muteadmin.api.problems import Problem

HEADER = "Idempotency-Key"
KEEP = timedelta(hours=24)
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"


def _key(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise Problem(
            "invalid",
            status=400,
            detail=gettext("An %(header)s is 1 to %(length)s printable ASCII characters.")
            % {"header": HEADER, "length": MAX_KEY_LENGTH},
            errors=[{"field": HEADER, "message": gettext("Not a usable key."), "code": "invalid"}],
        )
    return key


def _fingerprint(request: Request) -> str:
    """What makes two requests the same one: method, path, query and body (as JSON)."""
    typed = {
        "method": request.method,
        "path": request.path,
        "query": sorted(request.query_params.lists()),
        "body": request.data,
    }
    return hashlib.sha256(json.dumps(typed, sort_keys=True, default=str).encode()).hexdigest()


def _replay(answer: IdempotentAnswer) -> Response:
    headers = {REPLAYED_HEADER: "true"}
    if answer.location:
        headers["Location"] = answer.location
    content_type = "application/problem+json" if answer.status >= 400 else None
    return Response(answer.body, status=answer.status, headers=headers, content_type=content_type)


def idempotent(request: Request, run: Callable[[], Response]) -> Response:
    """`run()`'s answer, or the stored answer to the first request sent with the same key."""
    key = _key(request)
    if key is None:
        return run()
    token, fingerprint, now = request.auth, _fingerprint(request), timezone.now()
    IdempotentAnswer.objects.filter(token=token, created_at__lt=now - KEEP).delete()
    try:
        with transaction.atomic():
            answer = IdempotentAnswer.objects.create(
                token=token, key=key, request_hash=fingerprint, created_at=now
            )
    except IntegrityError:
        return _earlier(token=token, key=key, fingerprint=fingerprint)
    try:
        response = run()
    except Exception:
        answer.delete()
        raise
    answer.status = response.status_code
    # As the client reads it: DRF's rendering of dates and numbers, replayed byte for byte.
    answer.body = json.loads(JSONRenderer().render(response.data))
    answer.location = response.get("Location", "")
    answer.save(update_fields=["status", "body", "location"])
    return response


def _earlier(*, token, key: str, fingerprint: str) -> Response:
    earlier = IdempotentAnswer.objects.filter(token=token, key=key).first()
    if earlier is not None and earlier.request_hash != fingerprint:
        raise Problem(
            "idempotency-key-reused",
            status=422,
            detail=gettext(
                "This %(header)s was sent with a different request in the last 24 hours; "
                "use a new key for a new request."
            )
            % {"header": HEADER},
        )
    if earlier is None or earlier.status is None:
        raise Problem(
            "idempotency-key-in-use",
            status=409,
            wait=1,
            detail=gettext(
                "The first request with this %(header)s is still running; "
                "retry in a moment to get its answer."
            )
            % {"header": HEADER},
        )
    return _replay(earlier)
