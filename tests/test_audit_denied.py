"""Refused actions leave an audit row (`denied`): who asked what of which account, and why not.

Also the bulk job's cancel, which names who stopped the job on its page and in the log.
"""

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse

from muteadmin.approvals.models import MuteRequest
from muteadmin.approvals.services import mute_request_approve
from muteadmin.audit.denials import audit_denied
from muteadmin.audit.models import AuditEntry
from muteadmin.bulk.models import BulkJob
from muteadmin.core.account_paths import account_url
from muteadmin.mutes.services import mute_change
from muteadmin.tencent.nospeaking import PERMANENT
from tests.conftest import bulk_job, signed_in, user_in

pytestmark = pytest.mark.django_db

DENIED_FIELDS = ("operator_username", "account", "c2c_requested", "outcome", "client_ip")


def denied() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="denied").order_by("id"))


def calls() -> int:
    return AuditEntry.objects.filter(action__in=["query", "change"]).count()


def chain_intact() -> bool:
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue().startswith("Chain intact")


def test_an_auditors_post_to_the_account_page_is_refused_and_recorded(auditor):
    response = signed_in(auditor).post(
        account_url("hank"), {"c2c_seconds": "600", "reason": "looks bad"}
    )
    assert response.status_code == 403
    (row,) = denied()
    assert [getattr(row, name) for name in DENIED_FIELDS] == [
        "auditor",
        "hank",
        600,
        "error",
        "127.0.0.1",
    ]
    assert row.error_info == "You may not change mutes."
    assert row.details["asked"] == "change"
    assert row.chain_seq is not None and chain_intact()
    assert calls() == 0


def test_an_invalid_account_is_never_recorded_as_typed(auditor):
    typed = "x" * 40
    # The account page turns such an ID away before anything else (404), recording nothing.
    response = signed_in(auditor).post(account_url(typed), {"c2c_seconds": "zzz"})
    assert response.status_code == 404 and denied() == []
    # A refusal that names one anyway keeps no account.
    audit_denied(operator=auditor, asked="change", refused="No.", account=typed)
    (row,) = denied()
    assert (row.account, row.c2c_requested) == ("", None)
    assert row.details["account_invalid"] is True
    assert typed not in str(row.details)


def test_a_moderators_permanent_mute_is_refused_and_recorded(moderator):
    response = signed_in(moderator).post(
        account_url("erin"), {"c2c_seconds": str(PERMANENT), "reason": "raid"}
    )
    assert response.status_code == 200
    assert "You may not mute accounts permanently" in response.content.decode()
    (row,) = denied()
    assert (row.operator_username, row.account, row.c2c_requested, row.reason) == (
        "mod",
        "erin",
        PERMANENT,
        "raid",
    )
    assert "You may not mute accounts permanently" in row.error_info
    assert calls() == 0


def test_the_change_service_records_its_own_refusals(moderator):
    with pytest.raises(PermissionDenied):
        mute_change(account="erin", operator=moderator, reason="r", group_seconds=PERMANENT)
    (row,) = denied()
    assert (row.account, row.group_requested, row.details["asked"]) == ("erin", PERMANENT, "change")
    assert calls() == 0


def test_bulk_posts_without_the_right_are_refused_and_recorded(moderator, lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice"])
    client = signed_in(moderator)
    assert client.get(reverse("bulk:form")).status_code == 403
    assert denied() == []  # looking is not asking
    data = {"operation": "set", "accounts": "alice", "c2c_seconds": "600", "reason": "r"}
    assert client.post(reverse("bulk:form"), data).status_code == 403
    assert client.post(reverse("bulk:cancel", args=[job.pk])).status_code == 403
    first, second = denied()
    assert (first.details["asked"], first.error_info) == ("bulk", "You may not run bulk jobs.")
    assert (second.details["asked"], second.details["job"]) == ("cancel", job.pk)
    assert BulkJob.objects.get(pk=job.pk).cancel_requested is False


def test_approving_ones_own_request_is_refused_and_recorded(lead):
    signed_in(lead).post(
        account_url("alice"),
        {"c2c_seconds": str(PERMANENT), "reason": "x", "request_approval": "1"},
    )
    request = MuteRequest.objects.get()
    with pytest.raises(PermissionDenied):
        mute_request_approve(request_id=request.pk, approver=lead, client_ip="10.0.0.9")
    (row,) = denied()
    assert (row.account, row.c2c_requested, row.client_ip) == ("alice", PERMANENT, "10.0.0.9")
    assert row.details == {"asked": "approve", "request": request.pk}
    assert "You may not decide your own request" in row.error_info
    assert row.correlation_id == request.correlation_id


def test_audit_denied_is_a_service_others_call(lead):
    row = audit_denied(
        operator=lead, asked="approve", refused="Not yours to approve.", account="bob"
    )
    assert (row.action, row.outcome, row.error_info, row.account) == (
        "denied",
        "error",
        "Not yours to approve.",
        "bob",
    )
    assert chain_intact()


def test_denied_rows_are_listed_and_filtered_in_the_audit_log(auditor, lead):
    signed_in(auditor).post(account_url("hank"), {"c2c_seconds": "600", "reason": "r"})
    page = signed_in(lead).get(reverse("audit:list") + "?action=denied").content.decode()
    assert f'data-entry="{denied()[0].pk}"' in page and "Denied" in page


# Cancelling a bulk job


def test_cancelling_names_who_did_it_on_the_job_page_and_in_the_log(lead):
    other = user_in("lead2", "Lead")
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice", "bob"])
    client = signed_in(other)
    assert client.post(reverse("bulk:cancel", args=[job.pk])).status_code == 302
    job.refresh_from_db()
    assert (job.state, job.cancelled_by, job.cancelled_by_username) == ("cancelled", other, "lead2")
    page = client.get(reverse("bulk:job", args=[job.pk])).content.decode()
    assert "Cancelled by <strong>lead2</strong>" in page
    (row,) = AuditEntry.objects.filter(action="cancel")
    assert (row.operator_username, row.job_id, row.outcome, row.client_ip) == (
        "lead2",
        job.pk,
        "ok",
        "127.0.0.1",
    )
    assert row.details == {"state": "queued", "done": 0, "total": 2}
    # The job's rows in the log include the cancel.
    listing = client.get(reverse("audit:list") + f"?job={job.pk}").content.decode()
    assert f'data-entry="{row.pk}"' in listing
    # Cancelling again changes nothing and records nothing.
    signed_in(lead).post(reverse("bulk:cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.cancelled_by_username == "lead2"
    assert AuditEntry.objects.filter(action="cancel").count() == 1
    assert chain_intact()
