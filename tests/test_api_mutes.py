"""/api/v1/mutes/{account}: lookups and changes through the account page's services and rules."""

import pytest
from django.urls import reverse

from muteadmin.approvals.models import MuteRequest
from muteadmin.audit.models import AuditEntry
from muteadmin.mutes.services import mute_change, mute_get
from muteadmin.rules.services import RuleText, rule_create
from muteadmin.sandbox.services import sandbox_fault_push
from muteadmin.tencent.nospeaking import PERMANENT
from tests.api_support import ApiClient, api_as, problem
from tests.conftest import user_in

pytestmark = pytest.mark.django_db

DAY = 86400


def url(account: str = "alice") -> str:
    return reverse("api:mute", args=[account])


def state(account: str = "alice") -> tuple[int, int]:
    status = mute_get(account=account, operator=None)
    return status.c2c_seconds, status.group_seconds


def test_a_lookup_answers_the_mutes_and_the_audit_row_named_after_the_token():
    api = api_as("Moderator", "read", name="classifier")
    response = api.get(url())
    assert response.status_code == 200
    body = response.json()
    assert body["account"] == "alice" and body["app"] == "default"
    assert body["c2c"] == {"remaining_seconds": 0, "permanent": False, "ends_at": None}
    assert body["group"]["remaining_seconds"] == 0
    row = AuditEntry.objects.get(pk=body["audit_id"])
    assert (row.action, row.account, row.operator_username) == (
        "query",
        "alice",
        "token:classifier",
    )
    assert "no-store" in response["Cache-Control"]


def test_a_change_within_the_roles_limit_goes_through_and_is_audited_under_the_token():
    api = api_as("Moderator", "change", name="bot")
    response = api.post(url(), {"c2c_seconds": 3600, "reason": "spam links"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["sent"] is True
    assert body["c2c"]["remaining_seconds"] == 3600 and body["c2c"]["ends_at"]
    assert body["group"]["remaining_seconds"] == 0  # omitted: untouched
    assert body["before"]["c2c"]["remaining_seconds"] == 0
    assert state()[0] == 3600
    change = AuditEntry.objects.get(pk=body["audit_id"])
    assert change.action == "change" and change.operator_username == "token:bot"
    assert change.reason == "spam links" and change.c2c_requested == 3600
    assert change.group_requested is None


def test_a_permanent_mute_answers_permanent_and_no_end():
    api = api_as("Lead", "change")
    body = api.post(url(), {"group_seconds": PERMANENT, "reason": "ban evasion"}).json()
    assert body["group"] == {"remaining_seconds": PERMANENT, "permanent": True, "ends_at": None}


def test_above_the_roles_limit_a_request_is_filed_for_a_lead_as_the_page_does():
    api = api_as("Moderator", "change", name="bot")
    response = api.post(url(), {"c2c_seconds": 30 * DAY, "reason": "repeat offender"})
    assert response.status_code == 202, response.content
    body = response.json()
    request = MuteRequest.objects.get(pk=body["request_id"])
    assert (request.account, request.c2c_seconds, request.requested_by_username) == (
        "alice",
        30 * DAY,
        "token:bot",
    )
    assert body["status"] == "pending" and "waiting for a Lead's approval" in body["detail"]
    rows = AuditEntry.objects.filter(operator_username="token:bot").order_by("id")
    actions = list(rows.values_list("action", flat=True))
    assert actions == ["denied", "request_filed"]  # nothing sent: no query, no change
    assert state() == (0, 0)
    again = api.post(url(), {"c2c_seconds": 30 * DAY, "reason": "repeat offender"})
    assert problem(again, 409)["type"].endswith("request-waiting")


def test_a_change_on_a_stale_state_is_refused_with_the_current_one_and_sends_nothing():
    lead = user_in("lead", "Lead")
    api = api_as("Moderator", "read", "change")
    seen = api.get(url()).json()
    mute_change(account="alice", operator=lead, reason="elsewhere", c2c_seconds=600)
    changes = AuditEntry.objects.filter(action="change").count()
    response = api.post(url(), {"group_seconds": 3600, "reason": "spam", "expected": seen})
    body = problem(response, 409)
    assert body["type"].endswith("stale-state")
    assert body["changed"] == ["c2c"]
    assert body["current"]["c2c"]["remaining_seconds"] == 600
    assert AuditEntry.objects.filter(action="change").count() == changes
    assert state() == (600, 0)
    fresh = api.post(url(), {"group_seconds": 3600, "reason": "spam", "expected": body["current"]})
    assert fresh.status_code == 200 and state()[1] == 3600


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"c2c_seconds": 600}, "reason"),
        ({"c2c_seconds": "abc", "reason": "x"}, "c2c_seconds"),
        ({"c2c_seconds": "9" * 5000, "reason": "x"}, "c2c_seconds"),
        ({"c2c_seconds": PERMANENT + 1, "reason": "x"}, "c2c_seconds"),
        ({"c2c_seconds": -1, "reason": "x"}, "c2c_seconds"),
        ({"reason": "x"}, None),
        (
            {"c2c_seconds": 600, "reason": "x", "expected": {"c2c": {}}},
            "expected.c2c.remaining_seconds",
        ),
        ({"c2c_seconds": 600, "reason": "x", "notice_language": "xx"}, "notice_language"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_sent(body, field):
    response = api_as("Lead", "change").post(url(), body)
    errors = problem(response, 400)["errors"]
    assert field in [error["field"] for error in errors]
    assert all(error["message"] for error in errors)
    assert not AuditEntry.objects.filter(action__in=["query", "change"]).exists()


def test_a_body_that_is_not_json_is_a_400_problem():
    api = api_as("Lead", "change")
    response = api.client.post(
        url(), "{nope", content_type="application/json", headers=api._headers(None)
    )
    problem(response, 400)


def test_once_rules_exist_setting_a_length_names_one_as_on_the_page():
    lead = user_in("lead", "Lead")
    rule_create(operator=lead, code="spam", text=RuleText(title_en="Spam", title_zh_hans="垃圾"))
    api = api_as("Lead", "change")
    missing = problem(api.post(url(), {"c2c_seconds": 600, "reason": "x"}), 400)
    assert missing["errors"][0]["field"] == "rule"
    unknown = problem(api.post(url(), {"c2c_seconds": 600, "reason": "x", "rule": "scam"}), 400)
    assert unknown["errors"][0]["field"] == "rule"
    made = api.post(url(), {"c2c_seconds": 600, "reason": "x", "rule": "spam"})
    assert made.status_code == 200
    assert AuditEntry.objects.get(pk=made.json()["audit_id"]).rule == "spam"


def test_a_missing_scope_is_403_and_calls_nothing():
    api = api_as("Lead", "read")
    body = problem(api.post(url(), {"c2c_seconds": 600, "reason": "x"}), 403)
    assert "change scope" in body["detail"]
    assert problem(api_as("Lead", "change", name="w").get(url()), 403)
    assert not AuditEntry.objects.filter(action__in=["query", "change"]).exists()


def test_a_role_that_may_not_change_mutes_is_refused_and_the_refusal_audited():
    api = api_as("Auditor", "read", "change", name="reader")
    assert api.get(url()).status_code == 200
    problem(api.post(url(), {"c2c_seconds": 600, "reason": "x"}), 403)
    denied = AuditEntry.objects.get(action="denied")
    assert denied.operator_username == "token:reader" and denied.account == "alice"
    assert denied.c2c_requested == 600 and "may not change mutes" in denied.error_info
    assert state() == (0, 0)


def test_no_token_or_a_session_alone_is_401_with_how_to_authenticate(client, lead):
    anonymous = ApiClient(None).get(url())
    assert problem(anonymous, 401)["type"].endswith("unauthenticated")
    assert anonymous["WWW-Authenticate"].startswith("Bearer")
    client.force_login(lead)
    assert client.get(url()).status_code == 401
    assert client.post(url(), {"c2c_seconds": 600, "reason": "x"}).status_code == 401
    assert problem(ApiClient("mta_0123456789ab_guessed").get(url()), 401)
    assert problem(api_as("Lead").get(url(), Authorization="Basic abc"), 401)
    assert not AuditEntry.objects.filter(action__in=["query", "change"]).exists()


def test_an_account_id_travels_encoded_as_on_the_pages():
    api = api_as("Lead", "read", "change")
    for account in ("a/b", "..", "100%", "x?y#z"):
        assert api.post(url(account), {"c2c_seconds": 60, "reason": "x"}).status_code == 200
        assert api.get(url(account)).json()["account"] == account
        assert state(account)[0] > 0


def test_an_id_that_is_no_userid_or_has_spaces_is_404_and_calls_nothing():
    api = api_as("Lead", "read", "change")
    assert "space" in problem(api.get(url(" alice")), 404)["detail"]
    problem(api.get(url("nul\x00nul")), 404)
    problem(api.post(url("x" * 40), {"c2c_seconds": 60, "reason": "x"}), 404)
    assert not AuditEntry.objects.filter(action__in=["query", "change"]).exists()


def test_an_unknown_app_is_a_404_naming_the_configured_ones():
    body = problem(api_as("Lead", "read").get(url(), {"app": "nowhere"}), 404)
    assert "default" in body["detail"]


def test_tencents_refusal_is_a_502_problem_with_its_code_and_the_sentence():
    sandbox_fault_push(kind="error", code=90009)
    body = problem(api_as("Lead", "read").get(url()), 502)
    assert body["type"].endswith("upstream")
    assert body["error_code"] == 90009
    assert body["error_info"]


def test_a_change_may_send_the_notice_as_a_scripted_post_does():
    api = api_as("Lead", "change")
    body = api.post(url(), {"c2c_seconds": 3600, "reason": "spam", "notify": True}).json()
    assert body["notice"] == {"sent": True, "detail": "Notice sent to alice."}
    notice = AuditEntry.objects.get(action="notice")
    change = AuditEntry.objects.get(action="change")
    assert notice.correlation_id == change.correlation_id
    assert notice.operator_username.startswith("token:")


def test_a_notice_after_a_change_under_a_rule_names_the_rule():
    lead = user_in("lead", "Lead")
    rule_create(operator=lead, code="spam", text=RuleText(title_en="Spam", title_zh_hans="垃圾"))
    api = api_as("Lead", "change")
    reply = api.post(url(), {"c2c_seconds": 600, "reason": "x", "rule": "spam", "notify": True})
    assert reply.json()["notice"]["sent"] is True
    assert AuditEntry.objects.get(action="notice").rule == "spam"


def test_an_address_with_no_endpoint_is_a_404_problem():
    api = api_as("Lead", "read")
    assert problem(api.get("/api/v1/nothing/here"), 404)["type"].endswith("not-found")
    assert problem(ApiClient(None).post("/api/v1/mutes"), 404)


def test_head_reads_as_get_and_a_method_an_endpoint_lacks_is_405():
    api = api_as("Lead", "read", "change")
    assert api.client.head(url(), headers=api._headers(None)).status_code == 200
    reply = api.client.delete(url(), headers=api._headers(None))
    assert problem(reply, 405)["type"].endswith("method-not-allowed")
    assert api.client.options(url(), headers=api._headers(None)).status_code == 200


def test_a_request_filed_with_notify_carries_its_notice_for_the_approval():
    api = api_as("Moderator", "change", name="bot")
    reply = api.post(url(), {"c2c_seconds": 30 * DAY, "reason": "raid", "notify": True})
    assert MuteRequest.objects.get(pk=reply.json()["request_id"]).notice_language == "en"
