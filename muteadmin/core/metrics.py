"""The counters and histograms the processes add to; `/metrics` (muteadmin/metrics) serves them.

Under gunicorn's workers and the task worker, each process counts on its own: with
PROMETHEUS_MULTIPROC_DIR set (the Dockerfile and `make run` set it) prometheus-client writes the
counts to files there and `/metrics` sums them over every process. Figures read from the
database at scrape time (pending audit rows, the chain head's age, the bulk backlog) are not
here: they are collected when `/metrics` is read.
"""

from prometheus_client import Counter, Histogram

# Seconds; Tencent answers in tens of milliseconds, a retried or slow call takes seconds.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_WAIT_BUCKETS = (0.0, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0)

upstream_calls = Counter(
    "muteadmin_upstream_calls",
    "HTTP attempts sent to Tencent (or the sandbox), by app, API and outcome.",
    ["app", "api", "outcome"],
)
upstream_latency = Histogram(
    "muteadmin_upstream_latency_seconds",
    "Seconds from an attempt's start to Tencent's answer (or its failure), by app and API.",
    ["app", "api"],
    buckets=_LATENCY_BUCKETS,
)
limiter_wait = Histogram(
    "muteadmin_limiter_wait_seconds",
    "Seconds a call waited for a slot under the app's cap for the API, granted or not.",
    ["app", "api"],
    buckets=_WAIT_BUCKETS,
)
limiter_refused = Counter(
    "muteadmin_limiter_refused",
    "Calls that found no slot under the cap before their deadline, by app and API.",
    ["app", "api"],
)
bulk_items = Counter(
    "muteadmin_bulk_items",
    "Bulk job accounts the workers finished, by outcome (ok or error; retried later not counted).",
    ["outcome"],
)
