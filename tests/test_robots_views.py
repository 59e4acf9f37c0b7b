"""The notifications page: only Leads configure destinations; secrets are never shown back;
every change is audited; the send-test button and resume work from the page."""

import pytest
from django.urls import reverse

from muteadmin.audit.models import AuditEntry
from muteadmin.robots.delivery import delivery_attempt
from muteadmin.robots.models import Delivery, Destination
from muteadmin.robots.pausing import destinations_pause_failing
from tests.robot_receivers import receiving

pytestmark = pytest.mark.django_db

KEY = "693a91f6-7a1b-4bc4-97a0-0ec2sifa5aaa"
DING_TOKEN = "50cb6e954c89afa14fb97754eafd886d658fcda27d05015a26b474e7bd2f0a59"
DING_SECRET = "SEC5a3ecf88f2b3eb50db30ecfc00f53033ac909c99bf7f88fd612bda89d7f3a9dc"
WECOM = {
    "name": "ops group",
    "kind": "wecom",
    "url": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}",
    "language": "zh-hans",
    "events": ["permanent_mute", "bulk_finished"],
}
DINGTALK = {
    "name": "leads",
    "kind": "dingtalk",
    "url": f"https://oapi.dingtalk.com/robot/send?access_token={DING_TOKEN}",
    "secret": DING_SECRET,
    "language": "en",
    "events": ["request_waiting"],
}
PAGES = ("robots:list", "robots:detail", "robots:test", "robots:resume", "robots:delete")


def added(client, form: dict) -> Destination:
    response = client.post(reverse("robots:list"), form)
    assert response.status_code == 302, response.content.decode()
    return Destination.objects.get(name=form["name"])


def test_a_lead_adds_a_wecom_robot_and_the_page_shows_it_masked(as_lead):
    destination = added(as_lead, WECOM)
    assert (destination.url, destination.secret) == (WECOM["url"], "")
    assert destination.events == ["permanent_mute", "bulk_finished"]
    for page in (reverse("robots:list"), reverse("robots:detail", args=[destination.pk])):
        html = as_lead.get(page).content.decode()
        assert "ops group" in html and "https://qyapi.weixin.qq.com/••••" in html
        assert KEY not in html and KEY[-8:] not in html


def test_a_dingtalk_secret_is_stored_as_given_and_never_shown_or_audited(as_lead):
    destination = added(as_lead, DINGTALK)
    assert destination.secret == DING_SECRET
    html = as_lead.get(reverse("robots:detail", args=[destination.pk])).content.decode()
    assert DING_SECRET not in html and DING_TOKEN not in html
    assert "••••" + DING_SECRET[-4:] in html
    (row,) = AuditEntry.objects.filter(action="robot")
    assert row.operator_username == "lead" and row.outcome == "ok"
    assert row.details["change"] == "created" and row.details["destination"] == "leads"
    assert DING_SECRET not in str(row.details) and DING_TOKEN not in str(row.details)
    assert row.details["changed"]["secret"] == "••••" + DING_SECRET[-4:]


def test_leaving_address_and_secret_blank_keeps_them_and_changes_are_audited(as_lead):
    destination = added(as_lead, DINGTALK)
    form = DINGTALK | {"url": "", "secret": "", "language": "zh-hans"}
    response = as_lead.post(reverse("robots:detail", args=[destination.pk]), form)
    assert response.status_code == 302
    destination.refresh_from_db()
    assert (destination.url, destination.secret) == (DINGTALK["url"], DING_SECRET)
    assert destination.language == "zh-hans"
    row = AuditEntry.objects.filter(action="robot").order_by("-id").first()
    assert row.details["changed"] == {"language": ["en", "zh-hans"]}


def test_a_new_secret_is_audited_masked_before_and_after(as_lead):
    destination = added(as_lead, DINGTALK)
    fresh = "SEC" + "f" * 60 + "1234"
    as_lead.post(reverse("robots:detail", args=[destination.pk]), DINGTALK | {"secret": fresh})
    row = AuditEntry.objects.filter(action="robot").order_by("-id").first()
    assert row.details["changed"]["secret"] == ["••••" + DING_SECRET[-4:], "••••1234"]
    assert fresh not in str(row.details)


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        (
            WECOM | {"url": "https://evil.example.com/cgi-bin/webhook/send?key=x"},
            "url",
            "starts with",
        ),
        (WECOM | {"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"}, "url", "starts with"),
        (
            WECOM | {"url": "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x"},
            "url",
            "https://",
        ),
        (WECOM | {"secret": "something"}, "secret", "takes no signing secret"),
        (DINGTALK | {"url": "https://oapi.dingtalk.com/robot/send"}, "url", "starts with"),
        ({**DINGTALK, "kind": "feishu"}, "url", "starts with"),
        ({**DINGTALK, "kind": "webhook", "secret": ""}, "secret", "signing secret"),
        ({**DINGTALK, "kind": "webhook", "url": "ftp://example.com/x"}, "url", "https://"),
        (
            {**DINGTALK, "kind": "webhook", "url": "https://user:pw@example.com/x"},
            "url",
            "https://",
        ),
        (WECOM | {"url": ""}, "url", "address"),
    ],
)
def test_an_address_not_of_the_service_is_refused_with_a_sentence(as_lead, form, field, words):
    response = as_lead.post(reverse("robots:list"), form)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert words in " ".join(errors[field])
    assert not Destination.objects.exists() and not AuditEntry.objects.filter(action="robot")


def test_a_second_destination_of_the_same_name_is_refused(as_lead):
    added(as_lead, WECOM)
    response = as_lead.post(reverse("robots:list"), WECOM)
    assert response.status_code == 400
    assert "already a destination called ops group" in response.content.decode()


def test_renaming_a_destination_to_a_name_taken_is_refused_and_changes_nothing(as_lead):
    added(as_lead, WECOM)
    destination = added(as_lead, DINGTALK)
    rows = AuditEntry.objects.filter(action="robot").count()
    form = DINGTALK | {"name": WECOM["name"]}
    response = as_lead.post(reverse("robots:detail", args=[destination.pk]), form)
    assert response.status_code == 400
    assert "already a destination called ops group" in response.content.decode()
    destination.refresh_from_db()
    assert destination.name == "leads"
    assert AuditEntry.objects.filter(action="robot").count() == rows


@pytest.mark.parametrize("role", ["as_moderator", "as_auditor"])
def test_only_leads_open_or_change_notifications(request, lead, role):
    client = request.getfixturevalue(role)
    destination = Destination.objects.create(
        name="x",
        kind="slack",
        url="https://hooks.slack.com/services/T/B/C",
        events=[],
        created_at="2026-01-01T00:00:00Z",
        updated_at="2026-01-01T00:00:00Z",
    )
    for name in PAGES:
        url = reverse(name) if name == "robots:list" else reverse(name, args=[destination.pk])
        assert client.get(url).status_code in (403, 405)
        assert client.post(url, WECOM).status_code == 403
    assert Destination.objects.count() == 1 and not Delivery.objects.exists()
    assert "Notifications" not in client.get(reverse("mutes:lookup")).content.decode()


def test_the_lead_sees_notifications_in_the_navigation(as_lead):
    assert "data-nav-notifications" in as_lead.get(reverse("mutes:lookup")).content.decode()


def test_the_send_test_button_delivers_a_test_message_in_the_destinations_language(as_lead, clock):
    with receiving("dingtalk", now=clock.time, secret=DING_SECRET) as ding:
        destination = Destination.objects.create(
            name="ding",
            kind="dingtalk",
            url=ding.url,
            secret=DING_SECRET,
            language="zh-hans",
            events=[],
            created_at=clock(),
            updated_at=clock(),
        )
        response = as_lead.post(reverse("robots:test", args=[destination.pk]))
        assert response.status_code == 302
        (delivery,) = Delivery.objects.all()
        assert (delivery.event, delivery.status) == ("test", "queued")
        # What the worker does with the queued task.
        assert delivery_attempt(delivery_id=delivery.pk).status == "sent"
    assert ding.problems == []
    (text,) = ding.texts()
    assert "测试消息" in text and "lead" in text
    page = as_lead.get(reverse("robots:detail", args=[destination.pk])).content.decode()
    assert 'data-status="sent"' in page and "Test message" in page


def test_a_failed_test_shows_its_error_in_the_delivery_log(as_lead, clock):
    with receiving("slack", now=clock.time) as slack:
        slack.queued = [(404, "no_service")]
        destination = Destination.objects.create(
            name="slack",
            kind="slack",
            url=slack.url,
            events=[],
            created_at=clock(),
            updated_at=clock(),
        )
        as_lead.post(reverse("robots:test", args=[destination.pk]))
        delivery = Delivery.objects.get()
        assert delivery_attempt(delivery_id=delivery.pk).status == "failed"
    page = as_lead.get(reverse("robots:detail", args=[destination.pk])).content.decode()
    assert 'data-status="failed"' in page and "HTTP 404: no_service" in page
    assert slack.token not in page


def test_a_paused_destination_says_so_and_a_lead_resumes_it(as_lead, lead, clock):
    with receiving("wecom", now=clock.time) as wecom:
        wecom.queued = [(500, "down")]
        destination = Destination.objects.create(
            name="wecom",
            kind="wecom",
            url=wecom.url,
            events=["permanent_mute"],
            created_at=clock(),
            updated_at=clock(),
        )
        as_lead.post(reverse("robots:test", args=[destination.pk]))
        delivery_attempt(delivery_id=Delivery.objects.get().pk)
    clock.advance(86400)
    destinations_pause_failing()
    as_lead.logout()  # a day later: a new session
    as_lead.force_login(lead)
    response = as_lead.get(reverse("robots:list"))
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    page = response.content.decode()
    assert "data-paused" in page and "Paused since" in page
    detail = as_lead.get(reverse("robots:detail", args=[destination.pk])).content.decode()
    assert "data-resume" in detail
    assert as_lead.post(reverse("robots:resume", args=[destination.pk])).status_code == 302
    destination.refresh_from_db()
    assert not destination.paused and destination.failing_since is None
    changes = list(
        AuditEntry.objects.filter(action="robot")
        .order_by("id")
        .values_list("details__change", "operator_username")
    )
    assert changes == [("paused", ""), ("resumed", "lead")]


def test_a_lead_deletes_a_destination_and_its_log_audited(as_lead):
    destination = added(as_lead, WECOM)
    as_lead.post(reverse("robots:test", args=[destination.pk]))
    assert as_lead.post(reverse("robots:delete", args=[destination.pk])).status_code == 302
    assert not Destination.objects.exists() and not Delivery.objects.exists()
    last = AuditEntry.objects.filter(action="robot").order_by("-id").first()
    assert last.details["change"] == "deleted" and KEY not in str(last.details)


def test_an_unknown_or_overflowing_destination_id_is_not_found(as_lead):
    for pk in ("999", str(2**63), str(2**64)):
        assert as_lead.get(f"/notifications/{pk}/").status_code == 404
        assert as_lead.post(f"/notifications/{pk}/test").status_code == 404
