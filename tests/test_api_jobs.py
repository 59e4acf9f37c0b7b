"""/api/v1/bulk, /api/v1/audit and /api/v1/reports/mutes: the bulk page's jobs, the audit page's
filters and the report, for tokens of each role and scope; the schema."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from openapi_spec_validator import validate

from muteadmin.audit.models import AuditEntry
from muteadmin.bulk.models import BulkJob
from muteadmin.bulk.runner import RunnerConfig, bulk_job_run
from muteadmin.mutes.services import mute_change
from tests.api_support import ApiClient, api_as, problem
from tests.conftest import audit_row, user_in

pytestmark = pytest.mark.django_db

BULK = "/api/v1/bulk"


def run(job_id: int) -> None:
    bulk_job_run(job_id=job_id, worker="test:1:a", config=RunnerConfig(threads=1))


def test_a_lead_token_starts_a_job_follows_it_and_pages_its_results():
    api = api_as("Lead", "bulk", name="ops")
    accounts = [f"user{n:03}" for n in range(150)]
    created = api.post(
        BULK, {"operation": "set", "accounts": accounts, "c2c_seconds": 600, "reason": "raid"}
    )
    assert created.status_code == 201, created.content
    job = BulkJob.objects.get(pk=created.json()["id"])
    assert created["Location"] == reverse("api:bulk_job", args=[job.pk])
    assert (job.operation, job.total, job.created_by_username) == ("set", 150, "token:ops")
    status = api.get(created["Location"]).json()
    page_status = Client()
    page_status.force_login(user_in("lead", "Lead"))
    assert set(status) == set(page_status.get(reverse("bulk:status", args=[job.pk])).json())
    assert problem(api.get(f"{created['Location']}/results"), 409)["type"].endswith("not-finished")
    run(job.pk)
    first = api.get(f"{created['Location']}/results").json()
    assert [row["account"] for row in first["results"]] == accounts[:100]
    assert first["results"][0]["outcome"] == "ok" and first["results"][0]["c2c_observed"] == 600
    second = api.get(first["next"]).json()
    assert [row["account"] for row in second["results"]] == accounts[100:]
    assert second["next"] is None
    assert AuditEntry.objects.filter(action="change", operator_username="token:ops").count() == 150
    failed = api.get(f"{created['Location']}/results", {"outcome": "error"}).json()
    assert failed["results"] == []


def test_a_bulk_job_above_the_roles_limit_is_refused_and_audited_as_on_the_page():
    api = api_as("Moderator", "bulk", name="modbot")
    reply = api.post(
        BULK,
        {"operation": "set", "accounts": ["alice"], "c2c_seconds": 30 * 86400, "reason": "x"},
    )
    assert problem(reply, 403)
    assert not BulkJob.objects.exists()


def test_a_role_without_bulk_jobs_is_refused_with_an_audited_403():
    api = api_as("Auditor", "bulk", name="aud")
    reply = api.post(BULK, {"operation": "lookup", "accounts": ["alice"]})
    assert problem(reply, 403)["detail"] == "You may not run bulk jobs."
    assert AuditEntry.objects.get(action="denied").operator_username == "token:aud"
    assert not BulkJob.objects.exists()


def test_bulk_needs_the_bulk_scope():
    api = api_as("Lead", "read", "change", "audit")
    assert (
        "bulk scope"
        in problem(api.post(BULK, {"operation": "lookup", "accounts": ["a"]}), 403)["detail"]
    )


def test_invalid_accounts_are_listed_by_position_and_no_job_starts():
    api = api_as("Lead", "bulk")
    reply = api.post(BULK, {"operation": "lookup", "accounts": ["alice", "bad\x00id", "x" * 40]})
    fields = [error["field"] for error in problem(reply, 400)["errors"]]
    assert set(fields) == {"accounts.1", "accounts.2"}
    assert problem(api.post(BULK, {"operation": "nuke", "accounts": ["a"]}), 400)
    assert problem(api.post(BULK, {"operation": "set", "accounts": ["a"], "reason": "x"}), 400)
    assert problem(api.post(BULK, {"operation": "lookup", "accounts": []}), 400)
    assert problem(api.post(BULK, {"operation": "lookup", "accounts": "alice"}), 400)
    assert not BulkJob.objects.exists()


def test_a_job_that_does_not_exist_is_a_404_problem():
    api = api_as("Lead", "bulk")
    for job_id in (999, 2**63, 2**64):
        problem(api.get(f"{BULK}/{job_id}"), 404)


def test_a_damaged_results_cursor_is_a_400():
    api = api_as("Lead", "bulk")
    job_id = api.post(BULK, {"operation": "lookup", "accounts": ["alice"]}).json()["id"]
    run(job_id)
    problem(api.get(f"{BULK}/{job_id}/results", {"cursor": "x"}), 400)
    problem(api.get(f"{BULK}/{job_id}/results", {"outcome": "maybe"}), 400)


def test_the_audit_log_filters_as_its_page_and_pages_by_cursor():
    for number in range(55):
        audit_row(account=f"acct{number}", reason="spam" if number % 2 else "abuse")
    api = api_as("Auditor", "audit", name="auditbot")
    first = api.get("/api/v1/audit", {"q": "spam"}).json()
    assert len(first["results"]) == 27
    assert all(row["reason"] == "spam" for row in first["results"])
    everything = api.get("/api/v1/audit", {"action": "query"}).json()
    assert len(everything["results"]) == 50 and everything["next"]
    older = api.get(everything["next"]).json()
    assert len(older["results"]) == 5 and older["next"] is None and older["previous"]
    ids = [row["id"] for row in everything["results"] + older["results"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 55
    assert (
        problem(api.get("/api/v1/audit", {"since": "not a date"}), 400)["errors"][0]["field"]
        == "since"
    )
    assert problem(api.get("/api/v1/audit", {"before": "x"}), 400)


def test_the_audit_log_needs_the_audit_scope_and_a_role_that_may_read_it():
    assert problem(api_as("Lead", "read").get("/api/v1/audit"), 403)
    assert problem(api_as("Moderator", "audit").get("/api/v1/audit"), 403)
    assert problem(api_as("Moderator", "audit", name="m2").get("/api/v1/reports/mutes"), 403)


def test_the_mute_report_lists_who_is_muted_now():
    lead = user_in("lead", "Lead")
    mute_change(account="alice", operator=lead, reason="spam", c2c_seconds=3600)
    body = api_as("Auditor", "audit").get("/api/v1/reports/mutes").json()
    (row,) = body["results"]
    assert (row["account"], row["c2c_state"], row["last_operator"], row["last_reason"]) == (
        "alice",
        "muted",
        "lead",
        "spam",
    )
    assert problem(
        api_as("Lead", "audit", name="x").get("/api/v1/reports/mutes", {"after": "z"}), 400
    )


def test_the_schema_is_valid_openapi_and_needs_a_token_or_a_session(client, lead):
    assert problem(ApiClient(None).get("/api/v1/schema"), 401)
    response = api_as("Moderator", "read").get("/api/v1/schema", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    validate(schema)
    assert set(schema["paths"]) >= {
        "/api/v1/mutes/{account}",
        "/api/v1/bulk",
        "/api/v1/bulk/{job_id}",
        "/api/v1/bulk/{job_id}/results",
        "/api/v1/audit",
        "/api/v1/reports/mutes",
    }
    assert schema["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
    client.force_login(lead)
    assert client.get("/api/v1/schema").status_code == 200
