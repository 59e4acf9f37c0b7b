"""Every API endpoint for each role and scope: what a token may call is its scopes, then its role's
permissions and limits, exactly as the pages allow that role."""

import pytest
from django.contrib.auth.models import Group

from muteadmin.approvals.services import mute_request_approve
from muteadmin.audit.models import AuditEntry
from muteadmin.bulk.services import bulk_job_cancel
from muteadmin.mutes.services import mute_get
from muteadmin.policies.services import mute_limits_set
from tests.api_support import ALL_SCOPES, ApiClient, problem, token_for
from tests.conftest import bulk_job, user_in

pytestmark = pytest.mark.django_db

ROLES = ("Moderator", "Lead", "Auditor")


def _endpoints(job_id: int) -> list[tuple[str, str, str, dict | None, set[str]]]:
    """(method, url, scope, body, the roles that may) for each endpoint."""
    change = {"c2c_seconds": 60, "reason": "spam"}
    bulk = {"operation": "lookup", "accounts": ["alice"]}
    return [
        ("GET", "/api/v1/mutes/alice", "read", None, {"Moderator", "Lead", "Auditor"}),
        ("POST", "/api/v1/mutes/alice", "change", change, {"Moderator", "Lead"}),
        ("POST", "/api/v1/bulk", "bulk", bulk, {"Lead"}),
        ("GET", f"/api/v1/bulk/{job_id}", "bulk", None, {"Lead"}),
        ("GET", f"/api/v1/bulk/{job_id}/results", "bulk", None, {"Lead"}),
        ("GET", "/api/v1/audit", "audit", None, {"Lead", "Auditor"}),
        ("GET", "/api/v1/reports/mutes", "audit", None, {"Lead", "Auditor"}),
    ]


def _send(api: ApiClient, method: str, url: str, body: dict | None):
    return api.get(url) if method == "GET" else api.post(url, body)


@pytest.mark.parametrize("role", ROLES)
def test_each_endpoint_answers_a_role_as_its_pages_do_and_needs_its_scope(role):
    job = bulk_job(operator=user_in("owner", "Lead"), operation="lookup", accounts=["alice"])
    bulk_job_cancel(job=job)
    for method, url, scope, body, allowed in _endpoints(job.pk):
        _, scoped = token_for(role, scope, name=f"{role}-{scope}-{method}-{len(url)}")
        others = [other for other in ALL_SCOPES if other != scope]
        _, unscoped = token_for(role, *others, name=f"{role}-not-{scope}-{method}-{len(url)}")
        reply = _send(ApiClient(scoped), method, url, body)
        expected = {200, 201} if role in allowed else {403}
        assert reply.status_code in expected, (method, url, role, reply.content)
        if role not in allowed:
            problem(reply, 403)
        missing = problem(_send(ApiClient(unscoped), method, url, body), 403)
        assert f"lacks the {scope} scope" in missing["detail"]


def test_a_tokens_limits_are_its_roles_and_follow_a_change_of_them():
    lead = user_in("lead", "Lead")
    _, secret = token_for("Moderator", "change", name="bot")
    api = ApiClient(secret)
    assert api.post("/api/v1/mutes/alice", {"c2c_seconds": 7200, "reason": "x"}).status_code == 200
    mute_limits_set(operator=lead, group=Group.objects.get(name="Moderator"), limits={"c2c": 3600})
    reply = api.post("/api/v1/mutes/bob", {"c2c_seconds": 7200, "reason": "x"})
    assert reply.status_code == 202
    assert "above your limit (1 hour)" in reply.json()["detail"]
    assert mute_get(account="bob", operator=None).c2c_seconds == 0
    # Within the new limit it goes through, the request still waiting for a Lead.
    assert api.post("/api/v1/mutes/bob", {"c2c_seconds": 3600, "reason": "x"}).status_code == 200


def test_a_lead_approves_a_tokens_request_on_the_requests_page_and_the_rows_name_both():
    lead = user_in("lead", "Lead")
    _, secret = token_for("Moderator", "change", name="bot")
    reply = ApiClient(secret).post(
        "/api/v1/mutes/alice", {"group_seconds": 30 * 86400, "reason": "raid"}
    )
    result = mute_request_approve(request_id=reply.json()["request_id"], approver=lead)
    assert result.error is None
    change = AuditEntry.objects.get(action="change")
    assert (change.operator_username, change.on_behalf_of) == ("lead", "token:bot")
    assert mute_get(account="alice", operator=None).group_seconds > 29 * 86400


def test_an_idempotent_bulk_post_starts_one_job():
    from muteadmin.bulk.models import BulkJob

    _, secret = token_for("Lead", "bulk", name="ops")
    api = ApiClient(secret)
    body = {"operation": "lookup", "accounts": ["alice", "bob"]}
    first = api.post("/api/v1/bulk", body, **{"Idempotency-Key": "job-1"})
    again = api.post("/api/v1/bulk", body, **{"Idempotency-Key": "job-1"})
    assert first.status_code == again.status_code == 201
    assert again["Location"] == first["Location"] and again.json() == first.json()
    assert BulkJob.objects.count() == 1
