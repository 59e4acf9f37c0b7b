"""A rule's notify default and notice text: the rules page, the account page, scripts and bulk."""

import html
import re
import time

import pytest
from django.urls import reverse

from muteadmin.approvals.models import MuteRequest
from muteadmin.audit.models import AuditEntry
from muteadmin.bulk.models import BulkJob
from muteadmin.notices.models import NoticeTemplate
from muteadmin.rules.models import Rule
from muteadmin.sandbox.models import SandboxMessage
from muteadmin.sandbox.services import sandbox_reset
from tests.conftest import bulk_job
from tests.test_approvals import signed_in
from tests.test_bulk_views import FORM_URL, confirm_fields

SPAM_EN = "Muted for spam: {duration}, until {ends_at}. {reason}"
SPAM_ZH = "因发送垃圾信息被禁言{duration},至{ends_at}。{reason}"


@pytest.fixture
def sandbox(db):
    sandbox_reset()
    yield
    sandbox_reset()


@pytest.fixture
def rules(db) -> dict[str, Rule]:
    """spam tells the user by default and has its own texts; abuse does neither."""
    spam = Rule.objects.create(
        code="spam",
        title_en="Spam",
        title_zh_hans="垃圾信息",
        ladders={"c2c": [3600]},
        notify_by_default=True,
    )
    abuse = Rule.objects.create(code="abuse", title_en="Abuse", title_zh_hans="辱骂")
    NoticeTemplate.objects.create(rule_code="spam", language="en", time_zone="UTC", text=SPAM_EN)
    NoticeTemplate.objects.create(
        rule_code="spam", language="zh-hans", time_zone="Asia/Shanghai", text=SPAM_ZH
    )
    return {"spam": spam, "abuse": abuse}


def account_url(account: str, **query: str) -> str:
    url = reverse("mutes:account", kwargs={"account": account})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def page_fields(client, account: str) -> dict[str, str]:
    """The hidden fields the account page's form sends (seen_*, the notify marker)."""
    page = client.get(account_url(account)).content.decode()
    form = re.search(r'<form method="post"[^>]*class="change".*?</form>', page, re.S).group(0)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    fields.pop("csrfmiddlewaretoken", None)
    return fields


def notify_box(page: str) -> str:
    return re.search(r'<input type="checkbox" name="notify"[^>]*>', page).group(0)


def preview_block(page: str) -> str:
    return re.search(r"<div class=\"notice-preview\".*?</div>", page, re.S).group(0)


# --- the rules page ------------------------------------------------------------------------------


def test_a_lead_sets_a_rules_notify_default_on_the_rules_page_and_it_is_audited(as_lead, rules):
    form = {
        "title_en": "Abuse",
        "title_zh_hans": "辱骂",
        "c2c_ladder": "",
        "group_ladder": "",
        "window_days": "90",
        "notify_by_default": "on",
    }
    assert as_lead.post("/rules/abuse/", form).status_code == 302
    assert Rule.objects.get(code="abuse").notify_by_default
    row = AuditEntry.objects.get(action="rule_change", rule="abuse")
    assert row.details["before"]["notify_by_default"] is False
    assert row.details["after"]["notify_by_default"] is True
    listing = as_lead.get("/rules/").content.decode()
    assert listing.count("Sent by default") == 2
    edit = as_lead.get("/rules/abuse/").content.decode()
    assert re.search(r'name="notify_by_default"[^>]*checked', edit)


# --- the account page, drawn with a rule ---------------------------------------------------------


def test_a_page_drawn_with_a_notifying_rule_ticks_the_box_and_shows_its_text(
    sandbox, rules, as_moderator
):
    page = as_moderator.get(account_url("alice", rule="spam")).content.decode()
    assert "checked" in notify_box(page)
    preview = preview_block(page)
    assert " hidden" not in preview.split(">")[0]
    assert "Muted for spam: 1 hour, until " in html.unescape(preview)


def test_a_page_drawn_with_a_quiet_rule_or_none_leaves_the_box_unticked(
    sandbox, rules, as_moderator
):
    for page in (
        as_moderator.get(account_url("alice", rule="abuse")).content.decode(),
        as_moderator.get(account_url("alice")).content.decode(),
    ):
        assert "checked" not in notify_box(page)
        assert " hidden" in preview_block(page).split(">")[0]


def test_the_preview_follows_the_rule_the_language_and_the_reason(sandbox, rules, as_moderator):
    url = reverse("mutes:notice_preview", kwargs={"account": "alice"})
    data = {"c2c_seconds": "86400", "reason": "links to a scam shop", "notify": "on"}

    spam_zh = as_moderator.post(url, data | {"rule": "spam", "notice_language": "zh-hans"})
    text = html.unescape(spam_zh.content.decode())
    assert "因发送垃圾信息被禁言1天" in text and "(Asia/Shanghai)" in text
    assert text.count("links to a scam shop") == 1

    # abuse has no text of its own: the default one, in the language picked.
    abuse_en = html.unescape(as_moderator.post(url, data | {"rule": "abuse"}).content.decode())
    assert "Your account has been muted: you cannot send one-to-one messages" in abuse_en
    assert "Length: 1 day." in abuse_en and "Reason: links to a scam shop" in abuse_en

    lift = as_moderator.post(url, data | {"rule": "spam", "c2c_seconds": "0"}).content.decode()
    assert "No notice would be sent: a lift mutes nothing." in lift
    assert not SandboxMessage.objects.exists()
    assert not AuditEntry.objects.exists()


def test_only_those_who_change_mutes_get_a_preview(sandbox, rules, as_auditor):
    url = reverse("mutes:notice_preview", kwargs={"account": "alice"})
    assert as_auditor.post(url, {"rule": "spam", "c2c_seconds": "600"}).status_code == 403


# --- posts: a script takes the rule's default, the page honours its box --------------------------


def test_a_scripted_change_under_a_notifying_rule_sends_its_text(sandbox, rules, as_moderator):
    answer = as_moderator.post(
        account_url("alice"), {"rule": "spam", "c2c_seconds": "3600", "reason": "scam links"}
    )
    assert answer.status_code == 302
    message = SandboxMessage.objects.get()
    assert message.to_account == "alice"
    assert message.text.startswith("Muted for spam: 1 hour, until ")
    assert message.text.endswith("(UTC). scam links")
    notice = AuditEntry.objects.get(action="notice")
    change = AuditEntry.objects.get(action="change")
    assert (notice.outcome, notice.account, notice.rule) == ("ok", "alice", "spam")
    assert notice.correlation_id == change.correlation_id
    assert notice.details["text"] == message.text


def test_a_scripted_change_in_chinese_under_the_rule_uses_its_chinese_text(
    sandbox, rules, as_moderator
):
    as_moderator.post(
        account_url("bob"),
        {"rule": "spam", "c2c_seconds": "600", "reason": "刷屏", "notice_language": "zh-hans"},
    )
    assert SandboxMessage.objects.get().text.startswith("因发送垃圾信息被禁言10分钟")


def test_a_scripted_change_under_a_quiet_rule_sends_nothing(sandbox, rules, as_moderator):
    as_moderator.post(account_url("alice"), {"rule": "abuse", "c2c_seconds": "600", "reason": "x"})
    assert AuditEntry.objects.get(action="change").outcome == "ok"
    assert not SandboxMessage.objects.exists()
    assert not AuditEntry.objects.filter(action="notice").exists()


def test_the_pages_unticked_box_sends_no_notice_under_a_notifying_rule(
    sandbox, rules, as_moderator
):
    fields = page_fields(as_moderator, "alice")
    assert fields["notify_offered"] == "True"
    answer = as_moderator.post(
        account_url("alice"),
        fields | {"rule": "spam", "c2c_seconds": "3600", "reason": "scam links"},
    )
    assert answer.status_code == 302  # no notice step: straight back to the account
    assert AuditEntry.objects.get(action="change").outcome == "ok"
    assert not SandboxMessage.objects.exists()
    assert not AuditEntry.objects.filter(action="notice").exists()


def test_the_pages_ticked_box_shows_the_rules_text_before_sending(sandbox, rules, as_moderator):
    fields = page_fields(as_moderator, "alice")
    page = as_moderator.post(
        account_url("alice"),
        fields | {"rule": "spam", "c2c_seconds": "3600", "reason": "scam links", "notify": "on"},
    )
    assert page.status_code == 200
    shown = html.unescape(
        re.search(r"data-notice-text>(.*?)</blockquote>", page.content.decode()).group(1)
    )
    assert shown.startswith("Muted for spam: 1 hour, until ")
    assert not SandboxMessage.objects.exists()
    token = re.search(r'name="notice" value="([^"]+)"', page.content.decode()).group(1)
    as_moderator.post(reverse("mutes:notice", kwargs={"account": "alice"}), {"notice": token})
    assert SandboxMessage.objects.get().text == shown
    assert AuditEntry.objects.get(action="notice").rule == "spam"


# --- bulk ----------------------------------------------------------------------------------------


def test_the_bulk_form_drawn_with_a_notifying_rule_ticks_the_box(rules, as_lead):
    page = as_lead.get(FORM_URL + "?rule=spam").content.decode()
    assert "checked" in notify_box(page)
    assert re.search(r'<option value="spam" selected>', page)
    assert "checked" not in notify_box(as_lead.get(FORM_URL + "?rule=abuse").content.decode())
    assert 'data-notify-rules="spam"' in page


def test_a_scripted_bulk_change_under_a_notifying_rule_notifies_with_its_text(
    sandbox, rules, as_lead, django_capture_on_commit_callbacks
):
    data = {
        "operation": "set",
        "accounts": "alice\nbob",
        "rule": "spam",
        "c2c_seconds": "600",
        "reason": "raid",
    }
    preview = as_lead.post(FORM_URL, data).content.decode()
    assert "Muted for spam: 10 minutes, until " in html.unescape(preview)
    with django_capture_on_commit_callbacks(execute=True):
        as_lead.post(FORM_URL, confirm_fields(preview))
    job = BulkJob.objects.get()
    assert (job.rule, job.notice_language) == ("spam", "en")
    run(job)
    texts = dict(SandboxMessage.objects.values_list("to_account", "text"))
    assert set(texts) == {"alice", "bob"}
    assert all(text.startswith("Muted for spam: 10 minutes") for text in texts.values())
    notices = AuditEntry.objects.filter(action="notice", job_id=job.pk, outcome="ok")
    assert set(notices.values_list("rule", flat=True)) == {"spam"} and notices.count() == 2


def test_the_bulk_pages_unticked_box_carries_no_notice_under_a_notifying_rule(
    sandbox, rules, as_lead, django_capture_on_commit_callbacks
):
    form = as_lead.get(FORM_URL).content.decode()
    assert re.search(r'<input type="hidden" name="notify_offered" value="True"', form)
    data = {
        "operation": "set",
        "accounts": "alice",
        "rule": "spam",
        "c2c_seconds": "600",
        "reason": "raid",
        "notify_offered": "True",
    }
    preview = as_lead.post(FORM_URL, data).content.decode()
    assert "data-bulk-notice" not in preview
    with django_capture_on_commit_callbacks(execute=True):
        as_lead.post(FORM_URL, confirm_fields(preview))
    assert BulkJob.objects.get().notice_language == ""


def test_a_follow_up_job_carries_the_notice_on(sandbox, rules, lead):
    from muteadmin.bulk.follow_ups import bulk_job_follow_up
    from muteadmin.bulk.tasks import task_queue

    job = bulk_job(
        operator=lead,
        operation="set",
        accounts=["alice"],
        c2c_seconds=600,
        reason="raid",
        rule="spam",
        notice_language="zh-hans",
    )
    BulkJob.objects.filter(pk=job.pk).update(state=BulkJob.State.CANCELLED)
    job.refresh_from_db()
    follow_up = bulk_job_follow_up(job=job, which="not_sent", operator=lead, queue=task_queue)
    assert (follow_up.rule, follow_up.notice_language) == ("spam", "zh-hans")


def run(job: BulkJob) -> None:
    from muteadmin.bulk.runner import RunnerConfig, bulk_job_run
    from tests.conftest import FakeClock

    clock = FakeClock(start=time.time())
    bulk_job_run(
        job_id=job.pk,
        worker="test-host:1:run",
        config=RunnerConfig(threads=1, clock=clock, sleep=clock.sleep),
    )
    job.refresh_from_db()


def request_30_days(client, account: str, rule: str):
    return client.post(
        account_url(account),
        {
            "rule": rule,
            "c2c_seconds": str(30 * 86400),
            "reason": "raid leader",
            "request_approval": "1",
        },
        follow=True,
    )


def test_a_request_carries_its_notice_to_the_approval(sandbox, rules, as_moderator, lead):
    page = request_30_days(as_moderator, "alice", "spam").content.decode()
    assert "is waiting for a Lead&#x27;s approval" in page
    assert "The account is sent the notice once a Lead approves the request." in page
    assert not SandboxMessage.objects.exists()
    item = MuteRequest.objects.get(account="alice")
    assert item.notice_language == "en"
    assert "data-with-notice" in signed_in(lead).get("/requests/").content.decode()
    approved = signed_in(lead).post(f"/requests/{item.pk}/approve/", follow=True)
    assert "Notice sent to alice." in approved.content.decode()
    (message,) = SandboxMessage.objects.all()
    assert message.to_account == "alice"
    assert "Spam" in message.text or "raid leader" in message.text
    notice = AuditEntry.objects.get(action="notice")
    assert notice.correlation_id == item.correlation_id
    assert (notice.operator_username, notice.rule) == ("lead", "spam")


def test_a_quiet_request_sends_nothing_when_approved(sandbox, rules, as_moderator, lead):
    page = request_30_days(as_moderator, "bob", "abuse").content.decode()
    assert "The account is sent the notice" not in page
    item = MuteRequest.objects.get(account="bob")
    assert item.notice_language == ""
    signed_in(lead).post(f"/requests/{item.pk}/approve/")
    assert not SandboxMessage.objects.exists()
    assert not AuditEntry.objects.filter(action="notice").exists()


def test_a_failed_notice_after_an_approval_leaves_the_change(sandbox, rules, as_moderator, lead):
    request_30_days(as_moderator, "alice", "spam")
    item = MuteRequest.objects.get(account="alice")
    # Every English text removed while the request waited: nothing to send it with.
    NoticeTemplate.objects.filter(language="en").delete()
    answer = signed_in(lead).post(f"/requests/{item.pk}/approve/", follow=True)
    assert "The change stands, but the notice was not sent" in html.unescape(
        answer.content.decode()
    )
    item.refresh_from_db()
    assert item.status == "approved"
    assert AuditEntry.objects.get(action="change").outcome == "ok"
    assert not SandboxMessage.objects.exists()
