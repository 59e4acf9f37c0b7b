"""Role limits: seeded defaults, enforced by the service whatever the form sends, changed by Leads
at /policies/ with an audit row per change."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from muteadmin.audit.chain import audit_chain_verify
from muteadmin.audit.models import AuditEntry
from muteadmin.mutes.permissions import ApprovalRequired, mute_permissions
from muteadmin.mutes.services import mute_change, mute_change_many
from muteadmin.policies.models import UNLIMITED, MuteLimit
from muteadmin.policies.selectors import mute_limits_of
from muteadmin.policies.services import mute_limits_set
from muteadmin.tencent.nospeaking import PERMANENT
from tests.conftest import signed_in, user_in

pytestmark = pytest.mark.django_db

DAY = 86400
LIMITS_URL = "/policies/"


def account_url(account: str) -> str:
    return reverse("mutes:account", kwargs={"account": account})


def limits_post(client: Client, group: str, **fields) -> object:
    pk = Group.objects.get(name=group).pk
    data = {"group": str(pk)}
    defaults = {"c2c_mode": "length", "c2c_amount": "7", "c2c_unit": "days"}
    defaults |= {"group_mode": "length", "group_amount": "7", "group_unit": "days"}
    data |= {f"g{pk}-{name}": value for name, value in (defaults | fields).items()}
    return client.post(LIMITS_URL, data)


def test_the_roles_start_with_the_issues_defaults(moderator, lead, auditor):
    assert reverse("policies:limits") == LIMITS_URL
    assert mute_limits_of(user=moderator).c2c == 7 * DAY
    assert mute_limits_of(user=moderator).group == 7 * DAY
    assert (mute_limits_of(user=lead).c2c, mute_limits_of(user=lead).group) == (PERMANENT,) * 2
    assert (mute_limits_of(user=auditor).c2c, mute_limits_of(user=auditor).group) == (0, 0)
    assert mute_permissions(lead).mute_permanently
    assert not mute_permissions(moderator).mute_permanently


def test_someone_in_several_groups_gets_the_most_generous_limit_and_superusers_have_none():
    both = user_in("both", "Moderator", "Auditor")
    assert mute_limits_of(user=both).c2c == 7 * DAY
    MuteLimit.objects.filter(group__name="Auditor", kind="group").update(longest_seconds=30 * DAY)
    assert mute_limits_of(user=both).group == 30 * DAY
    root = user_in("root")
    root.is_superuser = True
    root.save()
    assert mute_limits_of(user=root).c2c == UNLIMITED


def test_the_service_refuses_a_moderators_mute_above_seven_days(moderator):
    with pytest.raises(ApprovalRequired, match="above your limit"):
        mute_change(account="alice", operator=moderator, reason="r", c2c_seconds=49_710 * DAY)
    with pytest.raises(ApprovalRequired):
        mute_change_many(accounts=["a", "b"], operator=moderator, reason="r", group_seconds=8 * DAY)
    # Every call to Tencent is audited first: no call's row, nothing sent; the refusal of the
    # change is recorded (the batch's refusal, a bulk job's, is recorded when the job is made).
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["denied"]
    mute_change(account="alice", operator=moderator, reason="r", c2c_seconds=7 * DAY)
    mute_change(account="alice", operator=moderator, reason="r", c2c_seconds=0)


def test_a_forged_post_above_the_limit_changes_nothing_and_offers_a_request(as_moderator):
    # The 2163 mute from the issue, sent as a custom length the form would never refuse alone.
    response = as_moderator.post(
        account_url("erin"),
        {"c2c_seconds": "custom", "c2c_custom": "49710", "c2c_custom_unit": "days", "reason": "x"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "above your limit (7 days)" in html
    assert "data-request-approval>Request approval" in html
    assert not AuditEntry.objects.filter(action="change").exists()
    response = as_moderator.post(account_url("erin"), {"group_seconds": "2592000", "reason": "x"})
    assert "above your limit" in response.content.decode()
    assert not AuditEntry.objects.filter(action="change").exists()


def test_the_form_says_the_limit_and_marks_lengths_above_it(as_moderator, lead):
    html = as_moderator.get(account_url("alice")).content.decode()
    assert "You may set mutes of up to 7 days; longer ones need a Lead&#x27;s approval." in html
    assert '<option value="604800">7 days</option>' in html
    assert '<option value="2592000">30 days (needs approval)</option>' in html
    html = signed_in(lead).get(account_url("alice")).content.decode()
    assert "any length, permanent included" in html
    assert "needs approval" not in html


def test_a_lifted_limit_lets_the_moderator_apply_alone(as_moderator, lead):
    limits_post(signed_in(lead), "Moderator", c2c_amount="30")
    response = as_moderator.post(account_url("bob"), {"c2c_seconds": "2592000", "reason": "x"})
    assert response.status_code == 302
    assert AuditEntry.objects.get(action="change").c2c_requested == 30 * DAY


def test_a_none_limit_leaves_only_lifting(moderator):
    MuteLimit.objects.filter(group__name="Moderator").update(longest_seconds=0)
    mute_change(account="alice", operator=moderator, reason="appeal", c2c_seconds=0)
    with pytest.raises(ApprovalRequired):
        mute_change(account="alice", operator=moderator, reason="spam", c2c_seconds=60)


def test_a_lead_changes_a_limit_and_each_change_is_audited_with_old_and_new(lead):
    client = signed_in(lead)
    response = limits_post(client, "Moderator", c2c_amount="36", c2c_unit="hours")
    assert response.status_code == 302
    assert MuteLimit.objects.get(group__name="Moderator", kind="c2c").longest_seconds == 36 * 3600
    (row,) = AuditEntry.objects.filter(action="limit_change")
    assert row.operator_username == "lead" and row.outcome == "ok"
    assert row.details == {
        "group": "Moderator",
        "kind": "c2c",
        "old_seconds": 7 * DAY,
        "new_seconds": 36 * 3600,
        "old": "7 days",
        "new": "1 day 12 hours",
    }
    limits_post(client, "Auditor", c2c_mode="none", group_mode="unlimited")
    rows = AuditEntry.objects.filter(action="limit_change").order_by("id")
    # The Auditor's C2C limit was none already: only the group limit changed.
    assert [(r.details["group"], r.details["kind"], r.details["new"]) for r in rows] == [
        ("Moderator", "c2c", "1 day 12 hours"),
        ("Auditor", "group", "unlimited (including permanent)"),
    ]
    assert audit_chain_verify().intact
    page = client.get(LIMITS_URL).content.decode()
    assert "1 day 12 hours" in page


def test_only_leads_change_limits(as_moderator, moderator):
    page = as_moderator.get(LIMITS_URL)
    assert page.status_code == 200
    assert "data-limits-form" not in page.content.decode()
    assert limits_post(as_moderator, "Moderator", c2c_amount="365").status_code == 403
    with pytest.raises(PermissionDenied):
        mute_limits_set(
            operator=moderator, group=Group.objects.get(name="Moderator"), limits={"c2c": 1}
        )
    assert MuteLimit.objects.get(group__name="Moderator", kind="c2c").longest_seconds == 7 * DAY
    assert not AuditEntry.objects.filter(action="limit_change").exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"c2c_amount": ""}, "Enter how long"),
        ({"c2c_amount": "-1"}, "greater than or equal to 1"),
        ({"c2c_amount": "999999999", "c2c_unit": "days"}, "longer than Tencent allows"),
        ({"c2c_mode": "forever"}, "Select a valid choice"),
    ],
)
def test_a_bad_limit_is_explained_and_changes_nothing(lead, fields, message):
    response = limits_post(signed_in(lead), "Moderator", **fields)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not AuditEntry.objects.filter(action="limit_change").exists()


@pytest.mark.parametrize("group", ["", "abc", "99999", "9" * 40])
def test_an_unknown_group_is_a_sentence_not_an_error_page(lead, group):
    response = signed_in(lead).post(LIMITS_URL, {"group": group}, follow=True)
    assert response.status_code == 200
    assert "That group no longer exists" in response.content.decode()


def test_the_bulk_form_refuses_lengths_above_the_limit(client):
    from django.contrib.auth.models import Permission

    user = user_in("senior", "Moderator")
    user.user_permissions.add(Permission.objects.get(codename="run_bulk"))
    client.force_login(user)
    response = client.post(
        reverse("bulk:form"),
        {"accounts": "a\nb", "operation": "set", "c2c_seconds": "2592000", "reason": "raid"},
    )
    html = response.content.decode()
    assert "That is longer than your limit (7 days); ask a Lead to do it." in html
    assert "data-confirm-form" not in html
