"""/metrics: Prometheus's text format for a scraper holding METRICS_TOKEN, off without it."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from muteadmin.bulk.runner import RunnerConfig, bulk_job_run
from muteadmin.sandbox.services import sandbox_fault_push
from tests.conftest import audit_begun, audit_completed, bulk_job

pytestmark = pytest.mark.django_db

TOKEN = "scrape-me-0123456789abcdef"
URL = "/metrics"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> dict[tuple[str, tuple], float]:
    """Every sample /metrics answers, by name and sorted labels."""
    response = client.get(URL, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def calls(samples, *, api: str, outcome: str) -> float:
    key = (
        "muteadmin_upstream_calls_total",
        (("api", api), ("app", "default"), ("outcome", outcome)),
    )
    return samples.get(key, 0.0)


def test_the_address_is_off_without_a_token(client):
    assert reverse("metrics:metrics") == URL
    assert client.get(URL).status_code == 404
    assert client.get(URL, headers={"Authorization": "Bearer "}).status_code == 404


def test_a_scraper_without_the_right_token_is_refused(client, metrics_on):
    for header in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        response = client.get(URL, headers=header)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert TOKEN not in response.content.decode()
    assert client.post(URL, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 405


def test_a_signed_in_moderator_is_no_scraper(as_moderator, metrics_on):
    assert as_moderator.get(URL).status_code == 401


def test_lookups_count_by_api_and_outcome_with_their_latency(client, as_moderator, metrics_on):
    before = scrape(client)
    assert as_moderator.get("/mutes/alice_01/").status_code == 200
    sandbox_fault_push(kind="error", code=70107)
    assert as_moderator.get("/mutes/bob_02/").status_code == 200
    after = scrape(client)
    assert (
        calls(after, api="getnospeaking", outcome="ok")
        - calls(before, api="getnospeaking", outcome="ok")
        == 1
    )
    refused = "invalid_request"
    assert (
        calls(after, api="getnospeaking", outcome=refused)
        - calls(before, api="getnospeaking", outcome=refused)
        == 1
    )
    latency = (
        "muteadmin_upstream_latency_seconds_count",
        (("api", "getnospeaking"), ("app", "default")),
    )
    assert after[latency] - before.get(latency, 0) == 2
    waited = (
        "muteadmin_limiter_wait_seconds_count",
        (("api", "getnospeaking"), ("app", "default")),
    )
    assert after[waited] - before.get(waited, 0) == 2


def test_pending_rows_and_the_chain_heads_age(client, metrics_on):
    audit_completed(account="olga")
    audit_begun(account="petra")
    audit_begun(account="quinn")
    samples = scrape(client)
    assert samples[("muteadmin_audit_pending_rows", ())] == 2
    assert 0 <= samples[("muteadmin_audit_chain_head_age_seconds", ())] < 60


def test_the_last_checkpoints_age_is_read_from_the_file(client, metrics_on, settings, tmp_path):
    path = tmp_path / "checkpoints.jsonl"
    settings.AUDIT_CHECKPOINT_PATH = str(path)
    assert ("muteadmin_audit_checkpoint_age_seconds", ()) not in scrape(client)
    written = timezone.now() - timedelta(minutes=50)
    stamp = written.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    path.write_text(
        '{"audit_checkpoint":1,"at":"2020-01-01T00:00:00.000000Z","rows":1}\n'
        f'{{"audit_checkpoint":1,"at":"{stamp}","rows":2}}\n'
        "not json: a torn last line\n"
    )
    age = scrape(client)[("muteadmin_audit_checkpoint_age_seconds", ())]
    assert 50 * 60 <= age < 51 * 60


def test_the_bulk_backlog_counts_accounts_still_to_send(client, lead, metrics_on):
    assert scrape(client)[("muteadmin_bulk_backlog_accounts", ())] == 0
    bulk_job(
        operation="set",
        accounts=["a1", "a2", "a3"],
        c2c_seconds=600,
        group_seconds=None,
        reason="raid",
        operator=lead,
    )
    assert scrape(client)[("muteadmin_bulk_backlog_accounts", ())] == 3


def test_a_bulk_jobs_accounts_count_by_outcome_once_sent(client, lead, metrics_on):
    ok, error = (
        ("muteadmin_bulk_items_total", (("outcome", "ok"),)),
        ("muteadmin_bulk_items_total", (("outcome", "error"),)),
    )
    before = scrape(client)
    job = bulk_job(
        operation="set",
        accounts=["a1", "a2", "a3"],
        c2c_seconds=600,
        group_seconds=None,
        reason="raid",
        operator=lead,
    )
    sandbox_fault_push(kind="error", code=70107)
    bulk_job_run(job_id=job.pk, worker="test:1:a", config=RunnerConfig(threads=1))
    after = scrape(client)
    assert after[ok] - before.get(ok, 0) == 2
    assert after[error] - before.get(error, 0) == 1
    assert after[("muteadmin_bulk_backlog_accounts", ())] == 0


def test_counts_from_every_process_are_summed(client, metrics_on, monkeypatch, tmp_path):
    # A worker process counting into the shared directory, as gunicorn's workers and the task
    # worker do when PROMETHEUS_MULTIPROC_DIR is set.
    environment = os.environ | {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    script = (
        "from muteadmin.core import metrics\n"
        "metrics.bulk_items.labels(outcome='ok').inc(41)\n"
        "metrics.bulk_items.labels(outcome='error').inc(1)\n"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", script], env=environment, check=True)  # noqa: S603
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    samples = scrape(client)
    assert samples[("muteadmin_bulk_items_total", (("outcome", "ok"),))] == 82
    assert samples[("muteadmin_bulk_items_total", (("outcome", "error"),))] == 2
    # The database's figures are there too.
    assert ("muteadmin_audit_pending_rows", ()) in samples
