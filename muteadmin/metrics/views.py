"""`/metrics`: Prometheus's text format, for a scraper holding METRICS_TOKEN; off without it."""

import hmac
import os

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from muteadmin.metrics.collectors import DatabaseCollector

BEARER = "Bearer "


@login_not_required
@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """Every process's counters and the database's figures; 401 without the token."""
    token = settings.METRICS_TOKEN
    if not token:
        # Off: the address answers as any unknown one does.
        raise Http404
    sent = request.headers.get("Authorization", "")
    if not (
        sent.startswith(BEARER)
        and hmac.compare_digest(sent[len(BEARER) :].encode(), token.encode())
    ):
        response = HttpResponse(
            "Send the METRICS_TOKEN as 'Authorization: Bearer <token>'.\n",
            status=401,
            content_type="text/plain",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    database = CollectorRegistry()
    database.register(DatabaseCollector())
    return HttpResponse(_processes() + generate_latest(database), content_type=CONTENT_TYPE_LATEST)


def _processes() -> bytes:
    """The counters: summed over every process when they write to PROMETHEUS_MULTIPROC_DIR."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
