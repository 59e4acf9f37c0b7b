"""Mute requests: filed above the limit, approved by another Lead (the change made for the
requester), rejected with a reason, expired; every step audited with both names."""

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from muteadmin.approvals.models import MuteRequest
from muteadmin.approvals.services import (
    RequestClosed,
    mute_request_approve,
    mute_request_file,
    mute_request_reject,
)
from muteadmin.audit.chain import audit_chain_verify
from muteadmin.audit.models import AuditEntry
from muteadmin.mutes.permissions import ApprovalRequired
from muteadmin.mutes.services import mute_change, mute_get
from muteadmin.tencent.nospeaking import PERMANENT
from tests.conftest import signed_in, user_in

pytestmark = pytest.mark.django_db

DAY = 86400
REQUESTS_URL = "/requests/"


def account_url(account: str) -> str:
    return reverse("mutes:account", kwargs={"account": account})


@pytest.fixture
def second_lead(db) -> User:
    return user_in("lead2", "Lead")


def request_30_days(client: Client, account: str = "spammer") -> object:
    """The Moderator's "Request approval" for a 30-day C2C mute."""
    data = {"c2c_seconds": str(30 * DAY), "reason": "raid leader", "request_approval": "1"}
    return client.post(account_url(account), data)


def steps(account: str = "spammer") -> list[tuple]:
    rows = AuditEntry.objects.filter(account=account).order_by("id")
    return list(rows.values_list("action", "operator_username", "on_behalf_of", "outcome"))


def test_a_moderator_files_a_request_and_the_account_page_shows_it(moderator):
    client = signed_in(moderator)
    response = request_30_days(client)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "is waiting for a Lead&#x27;s approval" in page
    request = MuteRequest.objects.get()
    assert (request.status, request.c2c_seconds, request.group_seconds) == (
        "pending",
        30 * DAY,
        None,
    )
    assert f'data-waiting-request="{request.pk}"' in page
    assert "Waiting for approval" in page and "raid leader" in page
    # Nothing was changed at Tencent: besides the page's lookup, the only row is the filing's.
    assert steps() == [("request_filed", "mod", None, "ok"), ("query", "mod", None, "ok")]
    filed = AuditEntry.objects.get(action="request_filed")
    assert (filed.c2c_requested, filed.reason) == (30 * DAY, "raid leader")
    assert mute_get(account="spammer", operator=moderator).c2c_seconds == 0


def test_the_navigation_counts_waiting_requests_for_leads(moderator, lead):
    request_30_days(signed_in(moderator))
    request_30_days(signed_in(moderator), account="other")
    page = signed_in(lead).get(reverse("mutes:lookup")).content.decode()
    assert "data-waiting-count>2</span>" in page
    assert "data-nav-requests" not in signed_in(moderator).get("/").content.decode()


def test_another_lead_approves_and_the_change_is_made_for_the_requester(moderator, lead):
    request_30_days(signed_in(moderator))
    request = MuteRequest.objects.get()
    client = signed_in(lead)
    listing = client.get(REQUESTS_URL).content.decode()
    assert f'data-request="{request.pk}"' in listing and "data-approve" in listing
    response = client.post(reverse("approvals:approve", args=[request.pk]), follow=True)
    assert f"Request #{request.pk} approved" in response.content.decode()
    request.refresh_from_db()
    assert (request.status, request.decided_by_username) == ("approved", "lead")
    status = mute_get(account="spammer", operator=lead)
    assert 30 * DAY - 5 <= status.c2c_seconds <= 30 * DAY
    assert steps()[:-1] == [
        ("request_filed", "mod", None, "ok"),
        ("request_approved", "lead", "mod", "ok"),
        ("query", "lead", "mod", "ok"),
        ("change", "lead", "mod", "ok"),
    ]
    change = AuditEntry.objects.get(action="change")
    assert (change.c2c_requested, change.reason) == (30 * DAY, "raid leader")
    # One operation: the filing, the decision, the query before and the change.
    assert AuditEntry.objects.filter(correlation_id=request.correlation_id).count() == 4
    assert audit_chain_verify().intact
    # Both names on the audit pages and in the export's last column.
    detail = client.get(reverse("audit:detail", args=[change.pk])).content.decode()
    assert 'data-field="on_behalf_of">mod<' in detail
    listing = client.get(reverse("audit:list")).content.decode()
    assert "data-on-behalf-of>for mod</span>" in listing
    body = b"".join(client.get(reverse("audit:export")).streaming_content).decode()
    change_line = next(line for line in body.splitlines() if line.startswith(f"{change.pk},"))
    assert change_line.endswith(",mod,")  # on_behalf_of, then the (empty) rule


def test_a_lead_may_not_approve_their_own_request(lead, second_lead):
    client = signed_in(lead)
    response = client.post(
        account_url("alice"),
        {"c2c_seconds": str(PERMANENT), "reason": "x", "request_approval": "1"},
    )
    assert response.status_code == 302
    request = MuteRequest.objects.get()
    listing = client.get(REQUESTS_URL).content.decode()
    assert "data-own-request" in listing and "data-approve" not in listing
    response = client.post(reverse("approvals:approve", args=[request.pk]), follow=True)
    assert "You may not decide your own request" in response.content.decode()
    with pytest.raises(PermissionDenied):
        mute_request_approve(request_id=request.pk, approver=lead)
    with pytest.raises(PermissionDenied):
        mute_request_reject(request_id=request.pk, decider=lead, reason="changed my mind")
    # Nor through the change service, naming themselves as the requester.
    with pytest.raises(PermissionDenied):
        mute_change(account="alice", operator=lead, on_behalf_of=lead, reason="x", c2c_seconds=60)
    request.refresh_from_db()
    assert request.status == "pending"
    # Each refusal is audited (approve on the page, approve, reject, the change service); no
    # call was made.
    assert steps("alice") == [
        ("request_filed", "lead", None, "ok"),
        *[("denied", "lead", None, "error")] * 3,
        ("denied", "lead", "lead", "error"),
    ]
    mute_request_approve(request_id=request.pk, approver=second_lead)
    assert MuteRequest.objects.get().status == "approved"


def test_moderators_and_auditors_cannot_decide_requests(moderator, auditor, lead):
    request_30_days(signed_in(moderator))
    request = MuteRequest.objects.get()
    other = user_in("mod2", "Moderator")
    for user in (other, auditor):
        client = signed_in(user)
        assert client.get(REQUESTS_URL).status_code == 403
        assert client.post(reverse("approvals:approve", args=[request.pk])).status_code == 403
        with pytest.raises(PermissionDenied):
            mute_request_approve(request_id=request.pk, approver=user)
    assert MuteRequest.objects.get().status == "pending"


def test_rejecting_needs_a_reason_and_is_audited_with_both_names(moderator, lead):
    request_30_days(signed_in(moderator))
    request = MuteRequest.objects.get()
    client = signed_in(lead)
    url = reverse("approvals:reject", args=[request.pk])
    response = client.post(url, {f"r{request.pk}-reason": "  "})
    assert response.status_code == 200
    assert "Give a reason for rejecting the request" in response.content.decode()
    assert MuteRequest.objects.get().status == "pending"
    with pytest.raises(ValueError, match="Give a reason"):
        mute_request_reject(request_id=request.pk, decider=lead, reason="")
    response = client.post(url, {f"r{request.pk}-reason": "30 days is too long here"}, follow=True)
    assert f"Request #{request.pk} for spammer rejected" in response.content.decode()
    request.refresh_from_db()
    assert (request.status, request.decision_reason) == ("rejected", "30 days is too long here")
    assert steps() == [
        ("request_filed", "mod", None, "ok"),
        ("request_rejected", "lead", "mod", "ok"),
    ]
    rejected = AuditEntry.objects.get(action="request_rejected")
    assert rejected.reason == "30 days is too long here"
    assert rejected.details["request_reason"] == "raid leader"
    # Decided: it cannot be approved afterwards.
    with pytest.raises(RequestClosed, match="already rejected by lead"):
        mute_request_approve(request_id=request.pk, approver=lead)


def test_a_request_expires_after_the_ttl_once(clock, settings, moderator, lead):
    settings.MUTE_REQUEST_TTL_HOURS = 2
    request_30_days(signed_in(moderator))
    request = MuteRequest.objects.get()
    assert request.expires_at == request.created_at + timedelta(hours=2)
    clock.advance(2 * 3600 - 1)
    client = signed_in(lead)
    assert f'data-request="{request.pk}"' in client.get(REQUESTS_URL).content.decode()
    clock.advance(1)
    page = client.get(REQUESTS_URL).content.decode()
    assert "data-no-requests" in page
    assert 'data-status="expired"' in page
    assert "data-waiting-count" not in page
    client.get(REQUESTS_URL)
    call_command("mute_requests_expire", verbosity=0)
    assert steps() == [("request_filed", "mod", None, "ok"), ("request_expired", "", "mod", "ok")]
    with pytest.raises(RequestClosed, match="expired"):
        mute_request_approve(request_id=request.pk, approver=lead)
    # Expired, it no longer waits on the account page, and the account may be requested again.
    assert (
        "data-waiting-request"
        not in signed_in(moderator).get(account_url("spammer")).content.decode()
    )
    assert request_30_days(signed_in(moderator)).status_code == 302


def test_the_command_expires_requests_due(clock, moderator):
    request_30_days(signed_in(moderator))
    clock.advance(24 * 3600)
    call_command("mute_requests_expire", verbosity=0)
    assert MuteRequest.objects.get().status == "expired"
    assert AuditEntry.objects.filter(action="request_expired").count() == 1


def test_a_second_decision_loses_and_says_who_won(moderator, lead, second_lead):
    request_30_days(signed_in(moderator))
    request = MuteRequest.objects.get()
    first, second = signed_in(lead), signed_in(second_lead)
    # Both have the list open with the request waiting.
    for client in (first, second):
        assert "data-approve" in client.get(REQUESTS_URL).content.decode()
    first.post(reverse("approvals:approve", args=[request.pk]))
    response = second.post(
        reverse("approvals:reject", args=[request.pk]), {f"r{request.pk}-reason": "no"}, follow=True
    )
    assert "already approved and applied by lead" in response.content.decode()
    assert AuditEntry.objects.filter(action="change").count() == 1
    assert not AuditEntry.objects.filter(action="request_rejected").exists()


def test_one_request_waits_per_account(moderator):
    client = signed_in(moderator)
    request_30_days(client)
    response = request_30_days(client)
    assert response.status_code == 200
    assert "already waiting for a Lead&#x27;s approval" in response.content.decode()
    assert MuteRequest.objects.count() == 1


def test_an_auditor_cannot_file_requests(auditor):
    with pytest.raises(PermissionDenied):
        mute_request_file(requester=auditor, account="a", reason="x", c2c_seconds=60)
    assert (
        signed_in(auditor)
        .post(account_url("a"), {"c2c_seconds": "60", "reason": "x", "request_approval": "1"})
        .status_code
        == 403
    )


def test_a_failed_change_leaves_the_request_failed_with_tencents_words(moderator, lead):
    from muteadmin.sandbox.services import sandbox_fault_push

    request_30_days(signed_in(moderator))
    request = MuteRequest.objects.get()
    sandbox_fault_push(kind="error", code=70107, count=1)
    result = mute_request_approve(request_id=request.pk, approver=lead)
    assert result.error is not None
    request.refresh_from_db()
    assert request.status == "failed" and request.outcome_message
    assert [step[0] for step in steps()][:2] == ["request_filed", "request_approved"]


def test_second_person_setting_sends_a_leads_permanent_mute_through_a_request(
    settings, lead, second_lead
):
    settings.REQUIRE_SECOND_PERSON_FOR_PERMANENT = True
    client = signed_in(lead)
    html = client.get(account_url("troll")).content.decode()
    assert "Permanently (needs approval)" in html
    with pytest.raises(ApprovalRequired, match="second Lead"):
        mute_change(account="troll", operator=lead, reason="x", group_seconds=PERMANENT)
    response = client.post(account_url("troll"), {"group_seconds": str(PERMANENT), "reason": "x"})
    assert "needs a second Lead" in response.content.decode()
    # Long mutes short of permanent stay the Lead's alone.
    mute_change(account="troll", operator=lead, reason="x", group_seconds=365 * DAY)
    client.post(
        account_url("troll"),
        {"group_seconds": str(PERMANENT), "reason": "forever", "request_approval": "1"},
    )
    request = MuteRequest.objects.get()
    mute_request_approve(request_id=request.pk, approver=second_lead)
    assert mute_get(account="troll", operator=lead).group_seconds == PERMANENT
    change = AuditEntry.objects.filter(action="change").latest("id")
    assert (change.operator_username, change.on_behalf_of) == ("lead2", "lead")


def test_the_approvers_own_limit_must_cover_the_change(moderator):
    from django.contrib.auth.models import Permission

    request_30_days(signed_in(moderator))
    request = MuteRequest.objects.get()
    deputy = user_in("deputy", "Moderator")
    deputy.user_permissions.add(Permission.objects.get(codename="decide_muterequest"))
    with pytest.raises(ApprovalRequired):
        mute_request_approve(request_id=request.pk, approver=deputy)
    assert MuteRequest.objects.get().status == "pending"
    assert not AuditEntry.objects.filter(action="request_approved").exists()


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite's in-memory test database has no concurrent writers",
)


@postgresql_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_leads_deciding_at_once_only_one_wins():
    moderator = user_in("mod", "Moderator")
    leads = [user_in(f"lead{n}", "Lead") for n in range(4)]
    request = mute_request_file(
        requester=moderator, account="racer", reason="raid", c2c_seconds=30 * DAY
    )
    start = threading.Barrier(len(leads))
    outcomes: list[str] = []

    def decide(lead: User, n: int) -> None:
        try:
            start.wait()
            if n % 2:
                mute_request_reject(request_id=request.pk, decider=lead, reason="no")
            else:
                mute_request_approve(request_id=request.pk, approver=lead)
            outcomes.append("won")
        except RequestClosed:
            outcomes.append("lost")
        finally:
            connection.close()

    workers = [threading.Thread(target=decide, args=(lead, n)) for n, lead in enumerate(leads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(outcomes) == ["lost", "lost", "lost", "won"]
    decisions = AuditEntry.objects.filter(action__in=["request_approved", "request_rejected"])
    assert decisions.count() == 1
    assert audit_chain_verify().intact


def test_on_behalf_of_is_in_the_chain_only_when_set_and_guarded_like_the_rest(moderator, lead):
    from muteadmin.audit.chain import GENESIS_HASH, chain_serialise
    from muteadmin.audit.maintenance import audit_maintenance
    from tests.test_audit_integrity import raw, refused

    request_30_days(signed_in(moderator))
    mute_request_approve(request_id=MuteRequest.objects.get().pk, approver=lead)
    change = AuditEntry.objects.filter(action="change").values().get()
    filed = AuditEntry.objects.filter(action="request_filed").values().get()
    # Rows without it hash exactly as rows written before the column existed.
    unset = {name: value for name, value in filed.items() if name != "on_behalf_of"}
    assert chain_serialise(previous=GENESIS_HASH, fields=filed) == chain_serialise(
        previous=GENESIS_HASH, fields=unset
    )
    assert b'"on_behalf_of":"mod"' in chain_serialise(previous=GENESIS_HASH, fields=change)
    assert "append-only" in refused(
        "UPDATE audit_auditentry SET on_behalf_of = 'someone' WHERE id = %s", [change["id"]]
    )
    with audit_maintenance():
        raw("UPDATE audit_auditentry SET on_behalf_of = 'someone' WHERE id = %s", [change["id"]])
    broken = audit_chain_verify()
    assert not broken.intact and broken.broken.entry_id == change["id"]
