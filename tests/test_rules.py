"""Policy rules and their ladders: Leads define them at /rules/, each change audited; a rule in use
is retired, never deleted; the ladder suggests the next length from the account's history."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from muteadmin.approvals.models import MuteRequest
from muteadmin.approvals.services import mute_request_approve, mute_request_file
from muteadmin.audit.chain import audit_chain_verify
from muteadmin.audit.models import AccountMuteState, AuditEntry
from muteadmin.bulk.models import BulkJob
from muteadmin.bulk.runner import RunnerConfig, bulk_job_run
from muteadmin.mutes.services import mute_change, mute_change_many
from muteadmin.rules.ladders import LadderInvalid, ladder_parse, ladder_text
from muteadmin.rules.models import Rule
from muteadmin.rules.selectors import ordinal, rule_ladder_step, rules_active
from muteadmin.rules.services import (
    RuleInvalid,
    RuleText,
    rule_create,
    rule_delete,
    rule_retire,
    rule_update,
)
from muteadmin.tencent.nospeaking import PERMANENT
from tests.conftest import audit_row, signed_in, user_in

pytestmark = pytest.mark.django_db

HOUR, DAY = 3600, 86400
SPAM_LADDER = [HOUR, DAY, 7 * DAY, PERMANENT]


def spam_rule(lead, **changes) -> Rule:
    text = RuleText(
        title_en="Spam",
        title_zh_hans="垃圾信息",
        description_en="Unsolicited advertising.",
        description_zh_hans="未经请求的广告。",
        ladders={"c2c": SPAM_LADDER, "group": SPAM_LADDER},
    )
    fields = {"code": "spam", "text": text} | changes
    return rule_create(operator=lead, **fields)


def offence(at, *, account="alice", rule="spam", app="default", **fields):
    """A change under `rule` that muted `account` for a day, written at `at`."""
    values = {"c2c_requested": DAY, "c2c_observed": DAY, "group_observed": 0} | fields
    return audit_row(at=at, action="change", account=account, rule=rule, app=app, **values)


# -- ladders in words --------------------------------------------------------------------------


def test_a_ladder_is_typed_in_short_lengths_and_read_back_the_same_way():
    assert ladder_parse("1h, 1d → 7d -> permanent") == SPAM_LADDER
    assert ladder_parse("30m, 2w") == [1800, 14 * DAY]
    assert ladder_parse("  ") == []
    assert ladder_text(SPAM_LADDER) == "1h, 1d, 7d, permanent"
    with pytest.raises(LadderInvalid, match=r"Step 2 \(tomorrow\) is not a length"):
        ladder_parse("1h, tomorrow")
    with pytest.raises(LadderInvalid, match="longer than Tencent allows"):
        ladder_parse("50000d")
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
    ]  # fmt: skip


# -- who may change rules, and the audit of each change ----------------------------------------


def test_only_leads_change_rules_and_every_change_is_audited(lead, moderator):
    with pytest.raises(PermissionDenied):
        spam_rule(moderator)
    rule = spam_rule(lead)
    text = RuleText(title_en="Spam", title_zh_hans="垃圾信息", ladders={"c2c": [HOUR]})
    assert rule_update(operator=lead, rule=rule, text=text) == [
        "description_en",
        "description_zh_hans",
        "ladders",
    ]
    assert rule_update(operator=lead, rule=rule, text=text) == []
    assert rule.ladder("c2c") == [HOUR] and rule.ladder("group") == []
    with pytest.raises(PermissionDenied):
        rule_retire(operator=moderator, rule=rule)
    assert rule_retire(operator=lead, rule=rule)
    rows = list(AuditEntry.objects.filter(action="rule_change").order_by("id"))
    assert [row.details["change"] for row in rows] == ["created", "updated", "retired"]
    assert {row.rule for row in rows} == {"spam"}
    assert {row.operator_username for row in rows} == {"lead"}
    assert rows[1].details["before"]["ladders"]["group"] == SPAM_LADDER
    assert rows[1].details["after"]["ladders"] == {"c2c": [HOUR]}
    assert audit_chain_verify().intact


def test_a_code_is_taken_for_good_even_by_a_retired_rule(lead):
    rule = spam_rule(lead)
    rule_retire(operator=lead, rule=rule)
    with pytest.raises(RuleInvalid, match="already a rule called spam"):
        spam_rule(lead)


def test_a_rule_in_use_is_retired_never_deleted(lead):
    rule = spam_rule(lead)
    offence(None)
    with pytest.raises(RuleInvalid, match="retire it instead"):
        rule_delete(operator=lead, rule=rule)
    assert Rule.objects.filter(code="spam").exists()
    unused = spam_rule(lead, code="typo")
    rule_delete(operator=lead, rule=unused)
    assert not Rule.objects.filter(code="typo").exists()
    assert AuditEntry.objects.filter(action="rule_change", details__change="deleted").count() == 1


def test_the_rules_page_lists_rules_for_every_role_and_lets_only_leads_change_them(
    lead, moderator, auditor
):
    spam_rule(lead)
    for user in (moderator, auditor):
        page = signed_in(user).get("/rules/")
        assert page.status_code == 200
        html = page.content.decode()
        assert 'data-rule="spam"' in html and "垃圾信息" in html
        assert "1 hour → 1 day → 7 days → permanent" in html
        assert "data-new-rule" not in html
        assert signed_in(user).get("/rules/new/").status_code == 403
        assert signed_in(user).post("/rules/spam/retire/").status_code == 403
    outsider = user_in("nobody")
    assert signed_in(outsider).get("/rules/").status_code == 403


# The rule form as a Lead fills it in.
HARASSMENT = {
    "code": "harassment",
    "title_en": "Harassment",
    "title_zh_hans": "骚扰",
    "c2c_ladder": "1d, 7d, permanent",
    "group_ladder": "",
    "window_days": "180",
}


def test_a_lead_creates_edits_and_retires_a_rule_through_the_pages(lead):
    client = signed_in(lead)
    form = HARASSMENT
    response = client.post("/rules/new/", form)
    assert response.status_code == 302
    rule = Rule.objects.get(code="harassment")
    assert rule.ladder("c2c") == [DAY, 7 * DAY, PERMANENT] and rule.window_days == 180
    bad = client.post("/rules/harassment/", form | {"c2c_ladder": "1d, soon"})
    assert bad.status_code == 200
    assert "Step 2 (soon) is not a length" in bad.content.decode()
    again = client.post("/rules/new/", form)
    assert "already a rule called harassment" in again.content.decode()
    assert client.post("/rules/harassment/", form | {"window_days": "30"}).status_code == 302
    assert Rule.objects.get(code="harassment").window_days == 30
    client.post("/rules/harassment/retire/", {"do": "retire"})
    assert Rule.objects.get(code="harassment").retired
    assert rules_active() == []
    assert client.get("/rules/no-such-rule/").status_code == 404


# -- the ladder --------------------------------------------------------------------------------


def test_the_ladder_suggests_each_step_in_turn_then_stays_on_the_last(lead, clock):
    rule = spam_rule(lead)
    now = clock()
    expected = [
        ("1st", HOUR, "1 hour"),
        ("2nd", DAY, "1 day"),
        ("3rd", 7 * DAY, "7 days"),
        ("4th", PERMANENT, "permanent"),
        ("5th", PERMANENT, "permanent"),
    ]
    for count, (nth, seconds, words) in enumerate(expected):
        step = rule_ladder_step(rule=rule, account="alice", app="default")
        assert step.offences == count
        assert step.seconds == {"c2c": seconds, "group": seconds}
        assert step.sentence == f"{nth} time under spam in 90 days: {words} suggested"
        offence(now - timedelta(days=10 - count))


def test_the_window_counts_changes_up_to_but_not_exactly_window_days_ago(lead, clock):
    rule = spam_rule(lead)
    now = clock()
    offence(now - timedelta(days=90))
    assert rule_ladder_step(rule=rule, account="alice", app="default").offences == 0
    offence(now - timedelta(days=90) + timedelta(seconds=1))
    assert rule_ladder_step(rule=rule, account="alice", app="default").offences == 1
    # A day later the second one has left the window too.
    clock.advance(DAY)
    assert rule_ladder_step(rule=rule, account="alice", app="default").offences == 0


def test_only_changes_that_muted_this_account_in_this_app_under_this_rule_count(lead, clock):
    rule = spam_rule(lead)
    spam_rule(lead, code="scam")
    moment = clock() - timedelta(days=1)
    offence(moment, c2c_requested=0)  # a lift
    offence(moment, outcome="error")  # did not go through
    offence(moment, account="bob")
    offence(moment, rule="scam")
    offence(moment, app="other")
    offence(moment, rule=None)
    audit_row(at=moment, action="request_filed", account="alice", rule="spam", c2c_requested=DAY)
    assert rule_ladder_step(rule=rule, account="alice", app="default").offences == 0
    offence(moment, c2c_requested=None, group_requested=DAY)
    assert rule_ladder_step(rule=rule, account="alice", app="default").offences == 1
    assert rule_ladder_step(rule=rule, account="alice", app="other").offences == 1


def test_a_ladder_for_one_kind_names_the_kind_and_a_retired_rule_leaves_its_rows(lead, clock):
    text = RuleText(title_en="Flood", title_zh_hans="刷屏", ladders={"group": [HOUR]})
    rule = rule_create(operator=lead, code="flood", text=text)
    step = rule_ladder_step(rule=rule, account="alice", app="default")
    assert step.sentence == "1st time under flood in 90 days: group 1 hour suggested"
    row = offence(clock() - timedelta(days=1), rule="flood")
    rule_retire(operator=lead, rule=rule)
    row.refresh_from_db()
    assert row.rule == "flood"
    assert [r.code for r in rules_active()] == []


# -- the rule on audit rows, the export, the filters, the report -------------------------------


def csv_of(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body, newline="")))


def test_a_change_under_a_rule_names_it_on_its_row_its_export_and_the_report(lead, moderator):
    spam_rule(lead)
    mute_change(account="alice", operator=moderator, reason="ads", c2c_seconds=DAY, rule="spam")
    mute_change_many(accounts=["bob"], operator=moderator, reason="ads", group_seconds=HOUR)
    change = AuditEntry.objects.get(action="change", account="alice")
    assert change.rule == "spam"
    # The query before the change is not made under the rule: only the change counts.
    assert AuditEntry.objects.get(action="query", account="alice").rule is None
    assert AuditEntry.objects.get(action="change", account="bob").rule is None
    assert audit_chain_verify().intact
    client = signed_in(lead)
    detail = client.get(f"/audit/{change.pk}/").content.decode()
    assert 'data-field="rule"><code>spam</code>' in detail
    listing = client.get("/audit/?rule=spam").content.decode()
    assert f'data-entry="{change.pk}"' in listing and 'data-rule="spam">under spam' in listing
    assert "bob" not in listing
    rows = csv_of(client.get("/audit/export.csv?rule=spam"))
    assert {(row["account"], row["action"], row["rule"]) for row in rows} == {
        ("alice", "change", "spam"),
        ("", "rule_change", "spam"),
    }
    header = next(iter(csv_of(client.get("/audit/export.csv"))))
    assert list(header)[-2:] == ["on_behalf_of", "rule"]
    bad = client.get("/audit/?rule=no%20such")
    assert bad.status_code == 200 and "A rule is named by its code" in bad.content.decode()
    # The report: the rule of the change that set the mute, and a filter by it.
    assert AccountMuteState.objects.get(account="alice").last_rule == "spam"
    report = {row["account"]: row for row in csv_of(client.get("/reports/mutes.csv"))}
    assert (report["alice"]["rule"], report["bob"]["rule"]) == ("spam", "")
    assert list(report["alice"])[-1] == "rule"
    only = [row["account"] for row in csv_of(client.get("/reports/mutes.csv?rule=spam"))]
    assert only == ["alice"]
    page = client.get("/reports/mutes/?rule=spam").content.decode()
    assert 'data-rule="spam"><code>spam</code>' in page and 'data-account="bob"' not in page


def test_a_request_carries_its_rule_to_every_step_and_the_change(lead, moderator):
    spam_rule(lead)
    other_lead = user_in("lead2", "Lead")
    mute_request_file(
        requester=moderator, account="carol", reason="raid", c2c_seconds=30 * DAY, rule="spam"
    )
    request = MuteRequest.objects.get()
    assert request.rule == "spam"
    assert "spam:" in signed_in(other_lead).get("/requests/").content.decode()
    mute_request_approve(request_id=request.pk, approver=other_lead)
    steps = AuditEntry.objects.filter(correlation_id=request.correlation_id).order_by("id")
    assert [(row.action, row.rule) for row in steps] == [
        ("request_filed", "spam"),
        ("request_approved", "spam"),
        ("query", None),
        ("change", "spam"),
    ]


# -- the rule field and the ladder's suggestion on the account page and in bulk ----------------


def account_page(client, account="alice", query=""):
    response = client.get(f"/mutes/{account}/{query}")
    assert response.status_code == 200
    return response.content.decode()


def selected(html: str, name: str) -> str:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    chosen = re.search(r'<option value="([^"]*)" selected', select)
    return chosen.group(1) if chosen else ""


def test_without_rules_the_field_is_hidden_and_a_change_needs_none(as_moderator):
    html = account_page(as_moderator)
    assert '<input type="hidden" name="rule"' in html and "data-ladder-suggestion" not in html
    as_moderator.post("/mutes/alice/", {"c2c_seconds": "3600", "reason": "ads"})
    assert AuditEntry.objects.get(action="change").rule is None


def test_once_rules_exist_setting_a_length_needs_one_and_a_lift_does_not(lead, as_moderator):
    spam_rule(lead)
    html = account_page(as_moderator)
    assert selected(html, "rule") == "" and "spam: Spam / 垃圾信息" in html
    response = as_moderator.post("/mutes/alice/", {"c2c_seconds": "3600", "reason": "ads"})
    assert "Pick the rule this change is made under" in response.content.decode()
    assert not AuditEntry.objects.filter(action="change").exists()
    as_moderator.post("/mutes/alice/", {"c2c_seconds": "3600", "reason": "ads", "rule": "spam"})
    as_moderator.post("/mutes/alice/", {"c2c_seconds": "0", "reason": "appeal upheld"})
    changes = AuditEntry.objects.filter(action="change").order_by("id")
    assert [(row.c2c_requested, row.rule) for row in changes] == [(3600, "spam"), (0, None)]


@pytest.mark.parametrize("rule", ["nope", "spam"])
def test_a_forged_post_with_an_unknown_or_retired_rule_changes_nothing(lead, as_moderator, rule):
    spam_rule(lead, code="scam")
    if rule == "spam":
        rule_retire(operator=lead, rule=spam_rule(lead))
    response = as_moderator.post(
        "/mutes/alice/", {"c2c_seconds": "3600", "reason": "ads", "rule": rule}
    )
    assert response.status_code == 200
    assert f"There is no rule {rule} to pick" in response.content.decode()
    assert not AuditEntry.objects.filter(action="change").exists()


def test_picking_a_rule_preselects_the_ladders_next_step_and_says_why(lead, as_moderator, clock):
    spam_rule(lead)
    html = account_page(as_moderator, query="?rule=spam")
    assert "1st time under spam in 90 days: 1 hour suggested" in html
    assert (selected(html, "rule"), selected(html, "c2c_seconds")) == ("spam", "3600")
    assert selected(html, "group_seconds") == "3600"
    now = clock()
    offence(now - timedelta(days=30))
    offence(now - timedelta(days=20))
    html = account_page(as_moderator, query="?rule=spam")
    assert "3rd time under spam in 90 days: 7 days suggested<" in html
    assert selected(html, "c2c_seconds") == str(7 * DAY)
    # The 4th step is permanent, above a moderator's limit: the request path is offered.
    offence(now - timedelta(days=10))
    html = account_page(as_moderator, query="?rule=spam")
    assert "4th time under spam in 90 days: permanent suggested, above your limit" in html
    assert selected(html, "c2c_seconds") == str(PERMANENT)
    assert "data-request-approval" in html
    # A length the presets do not hold is pre-selected as a custom one.
    text = RuleText(title_en="Flood", title_zh_hans="刷屏", ladders={"c2c": [2 * HOUR]})
    rule_create(operator=lead, code="flood", text=text)
    html = account_page(as_moderator, query="?rule=flood")
    assert (selected(html, "c2c_seconds"), selected(html, "c2c_custom_unit")) == ("custom", "hours")
    assert 'name="c2c_custom" value="2"' in html and selected(html, "group_seconds") == ""
    assert "There is no rule gone to pick" in account_page(as_moderator, query="?rule=gone")


def test_a_change_made_under_the_suggestion_moves_the_account_up_the_ladder(lead, as_moderator):
    spam_rule(lead)
    as_moderator.post("/mutes/alice/", {"c2c_seconds": "3600", "reason": "ads", "rule": "spam"})
    html = account_page(as_moderator, query="?rule=spam")
    assert "2nd time under spam in 90 days: 1 day suggested" in html
    # Another account, or the same one in no hurry, starts at the bottom.
    assert "1st time" in account_page(as_moderator, account="bob", query="?rule=spam")


def test_a_retired_rule_leaves_the_form_but_stays_on_its_rows(lead, as_moderator):
    rule = spam_rule(lead)
    spam_rule(lead, code="scam")
    as_moderator.post("/mutes/alice/", {"c2c_seconds": "3600", "reason": "ads", "rule": "spam"})
    rule_retire(operator=lead, rule=rule)
    html = account_page(as_moderator)
    assert 'value="scam"' in html and 'value="spam"' not in html
    change = AuditEntry.objects.get(action="change")
    detail = signed_in(lead).get(f"/audit/{change.pk}/").content.decode()
    assert 'data-field="rule"><code>spam</code>' in detail


def test_a_request_for_approval_from_the_account_page_keeps_the_rule(lead, as_moderator):
    spam_rule(lead)
    as_moderator.post(
        "/mutes/alice/",
        {"c2c_seconds": str(PERMANENT), "reason": "4th", "rule": "spam", "request_approval": "1"},
    )
    assert MuteRequest.objects.get().rule == "spam"


def test_a_bulk_change_names_its_rule_on_every_row(lead):
    spam_rule(lead)
    client = signed_in(lead)
    fields = {"operation": "set", "accounts": "alice\nbob", "c2c_seconds": "3600", "reason": "x"}
    refused = client.post("/bulk/", fields).content.decode()
    assert "Pick the rule this change is made under" in refused
    assert (
        "There is no rule nope to pick"
        in client.post("/bulk/", fields | {"rule": "nope"}).content.decode()
    )
    preview = client.post("/bulk/", fields | {"rule": "spam"}).content.decode()
    assert "data-bulk-rule" in preview and 'name="rule" value="spam"' in preview
    response = client.post("/bulk/", fields | {"rule": "spam", "confirm": "1"})
    job = BulkJob.objects.get()
    assert response.status_code == 302 and job.rule == "spam"
    bulk_job_run(job_id=job.pk, worker="test:1:a", config=RunnerConfig(threads=1))
    rows = AuditEntry.objects.filter(action="change", job_id=job.pk)
    assert sorted((row.account, row.rule) for row in rows) == [("alice", "spam"), ("bob", "spam")]
    # A bulk lift goes without a rule, as on the account page.
    lift = {"operation": "lift", "accounts": "alice", "reason": "appeal", "confirm": "1"}
    assert client.post("/bulk/", lift).status_code == 302


def test_a_rules_outcomes_speak_the_readers_language(lead):
    client = signed_in(lead)
    form = HARASSMENT
    created = client.post("/rules/new/", form, follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "已创建规则 harassment。" in created.content.decode()
    again = client.post("/rules/new/", form, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "已有名为 harassment 的规则" in again.content.decode()
    retired = client.post(
        "/rules/harassment/retire/", {"do": "retire"}, follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert "规则 harassment 已停用" in retired.content.decode()
