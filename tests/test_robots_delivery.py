"""Notifications reach each chat service as it documents them, signed, in the right language;
failures are retried with growing waits, and a destination failing for a day is paused."""

import logging
from datetime import timedelta

import pytest
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from muteadmin.audit.models import AuditEntry
from muteadmin.robots.delivery import MAX_ATTEMPTS, delivery_attempt
from muteadmin.robots.events import notify_event
from muteadmin.robots.models import Delivery, Destination
from muteadmin.robots.pausing import destinations_pause_failing
from muteadmin.robots.recovery import deliveries_recover
from muteadmin.robots.tasks import robots_deliver
from muteadmin.tencent.nospeaking import PERMANENT
from tests.robot_receivers import receiving

pytestmark = pytest.mark.django_db

DELIVER_TASK = "muteadmin.robots.tasks.robots_deliver"
SECRETS = {
    "wecom": "",
    "dingtalk": "SECb1f0c4d3e2a1908f7e6d5c4b3a2910ffeeddccbbaa99887766554433221100",
    "feishu": "fs-signing-secret-0123456789abcdef",
    "slack": "",
    "webhook": "whsec-0123456789abcdef0123456789",
}
FACTS = dict(
    account="alice",
    app="default",
    operator="lead",
    reason="spam links",
    rule="spam",
    c2c_seconds=PERMANENT,
    group_seconds=None,
    on_behalf_of=None,
)


def destination(receiver, *, language="en", events=("permanent_mute",), **fields) -> Destination:
    """A destination at the receiver's address (made directly: the page only takes the
    services' own hosts)."""
    now = fields.pop("now", None)
    from muteadmin.robots.delivery import robots_now

    now = now or robots_now()
    return Destination.objects.create(
        name=fields.pop("name", f"{receiver.kind} room"),
        kind=receiver.kind,
        url=receiver.url,
        secret=receiver.secret,
        language=language,
        events=list(events),
        created_at=now,
        updated_at=now,
        **fields,
    )


def deliver_all() -> list[str]:
    """What the worker does with each waiting delivery: one attempt each."""
    waiting = Delivery.objects.filter(status__in=["queued", "retrying"]).order_by("id")
    return [delivery_attempt(delivery_id=pk).status for pk in waiting.values_list("pk", flat=True)]


@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "feishu", "slack", "webhook"])
def test_each_service_receives_its_documented_request_signed_and_accepts_it(clock, kind):
    with receiving(kind, now=clock.time, secret=SECRETS[kind]) as receiver:
        target = destination(receiver)
        (delivery_id,) = notify_event("permanent_mute", **FACTS)
        assert deliver_all() == ["sent"]
    assert receiver.problems == []
    (text,) = receiver.texts()
    assert "Permanent mute" in text and "alice" in text and "spam links" in text
    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, "")
    target.refresh_from_db()
    assert target.last_success_at is not None and target.failing_since is None


@pytest.mark.parametrize("kind", ["dingtalk", "feishu", "webhook"])
def test_a_wrong_signing_secret_is_refused_by_the_receiver_and_recorded(clock, kind):
    with receiving(kind, now=clock.time, secret=SECRETS[kind]) as receiver:
        target = destination(receiver)
        Destination.objects.filter(pk=target.pk).update(secret="not-the-secret-at-all-0000")
        notify_event("permanent_mute", **FACTS)
        assert deliver_all() == ["failed"]
    assert receiver.problems and "sign" in receiver.problems[0]
    delivery = Delivery.objects.get()
    assert delivery.attempts == 1  # a refusal is not retried: it would only be refused again
    assert delivery.last_error.startswith(("The service answered code", "The service refused"))


def test_a_signature_too_old_for_the_webhook_receiver_is_refused(clock):
    with receiving("webhook", now=lambda: clock.time() + 301, secret=SECRETS["webhook"]) as hook:
        destination(hook)
        notify_event("permanent_mute", **FACTS)
        assert deliver_all() == ["failed"]
    assert hook.problems == ["stale timestamp"]


def test_the_webhook_body_carries_the_event_and_its_facts(clock):
    with receiving("webhook", now=clock.time, secret=SECRETS["webhook"]) as hook:
        destination(hook)
        (delivery_id,) = notify_event("permanent_mute", **FACTS)
        deliver_all()
    (arrival,) = hook.arrivals
    body = arrival.json()
    assert arrival.headers["x-muteadmin-event"] == "permanent_mute"
    assert arrival.headers["x-muteadmin-delivery"] == str(delivery_id)
    assert arrival.headers["x-muteadmin-timestamp"] == str(int(clock.time()))
    assert body["facts"]["account"] == "alice" and body["facts"]["c2c_seconds"] == PERMANENT
    assert (body["event"], body["language"], body["delivery"]) == (
        "permanent_mute",
        "en",
        delivery_id,
    )


def test_slack_markup_in_what_a_moderator_typed_is_escaped(clock):
    with receiving("slack", now=clock.time) as slack:
        destination(slack)
        notify_event("permanent_mute", **(FACTS | {"reason": "<!channel> & <@U123>"}))
        deliver_all()
    (text,) = slack.texts()
    assert "<!channel>" not in text and "&lt;!channel&gt; &amp; &lt;@U123&gt;" in text


def test_messages_are_written_in_each_destinations_language(clock):
    with (
        receiving("wecom", now=clock.time, token="wecom-zh-0000000001") as chinese,
        receiving("wecom", now=clock.time, token="wecom-en-0000000002") as english,
    ):
        destination(chinese, name="中文群", language="zh-hans")
        destination(english, name="english room", language="en")
        notify_event("permanent_mute", **FACTS)
        assert deliver_all() == ["sent", "sent"]
    (zh,) = chinese.texts()
    (en,) = english.texts()
    # Chinese punctuation is full-width, as written in the catalogue.
    assert "永久禁言" in zh and "原因：spam links" in zh and "Permanent" not in zh  # noqa: RUF001
    assert "was muted permanently by lead" in en and "永久" not in en


def test_a_request_waiting_is_dated_in_each_languages_time_zone(clock):
    facts = dict(FACTS, requester="mod", expires_at="2026-12-07T08:00:00+00:00", c2c_seconds=86400)
    with (
        receiving("feishu", now=clock.time, secret=SECRETS["feishu"], token="zh-hook") as zh,
        receiving("feishu", now=clock.time, secret=SECRETS["feishu"], token="en-hook") as en,
    ):
        destination(zh, name="zh", language="zh-hans", events=["request_waiting"])
        destination(en, name="en", language="en", events=["request_waiting"])
        notify_event("request_waiting", **facts)
        deliver_all()
    assert "北京时间 2026-12-07 16:00" in zh.texts()[0] and "单聊：1 天" in zh.texts()[0]  # noqa: RUF001
    assert "2026-12-07 08:00 UTC" in en.texts()[0] and "one-to-one: 1 day" in en.texts()[0]


def test_a_destination_hears_only_the_events_it_chose(clock):
    with receiving("slack", now=clock.time) as slack:
        destination(slack, events=["bulk_finished"])
        assert notify_event("permanent_mute", **FACTS) == []
        assert len(notify_event("bulk_finished", job=7, ok=3, errors=0, state="done")) == 1
        deliver_all()
    assert len(slack.arrivals) == 1 and "Bulk job 7" in slack.texts()[0]


def test_server_errors_are_retried_with_doubling_waits_until_one_gets_through(clock):
    with receiving("dingtalk", now=clock.time, secret=SECRETS["dingtalk"]) as ding:
        ding.queued = [
            (500, "busy"),
            (502, "bad gateway"),
            (200, '{"errcode":130101,"errmsg":"send too fast"}'),
        ]
        destination(ding)
        (delivery_id,) = notify_event("permanent_mute", **FACTS)
        waits = []
        for _ in range(3):
            started = clock()
            assert delivery_attempt(delivery_id=delivery_id).status == "retrying"
            delivery = Delivery.objects.get(pk=delivery_id)
            waits.append((delivery.next_attempt_at - started).total_seconds())
            # Not before its time: the worker only runs it once `run_after` has come.
            clock.advance(waits[-1])
        assert delivery_attempt(delivery_id=delivery_id).status == "sent"
    assert waits == [30, 60, 120]
    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 4, "")
    assert ding.problems == [] and len(ding.arrivals) == 4


def test_the_task_queues_its_retry_to_run_after_the_backoff(clock):
    with receiving("slack", now=clock.time) as slack:
        slack.queued = [(503, "unavailable")]
        destination(slack)
        (delivery_id,) = notify_event("permanent_mute", **FACTS)
        assert robots_deliver.call(delivery_id) == "retrying"
    retry = DBTaskResult.objects.filter(task_path=DELIVER_TASK).order_by("-enqueued_at").first()
    assert retry.status == TaskResultStatus.READY
    assert retry.run_after == clock() + timedelta(seconds=30)
    assert retry.args_kwargs["kwargs"] == {"delivery_id": delivery_id}


def test_a_delivery_that_keeps_failing_stops_after_its_attempts(clock):
    with receiving("wecom", now=clock.time) as wecom:
        wecom.queued = [(500, "down")] * MAX_ATTEMPTS
        destination(wecom)
        (delivery_id,) = notify_event("permanent_mute", **FACTS)
        statuses = []
        for _ in range(MAX_ATTEMPTS):
            statuses.append(delivery_attempt(delivery_id=delivery_id).status)
            clock.advance(3600)
    assert statuses == ["retrying"] * (MAX_ATTEMPTS - 1) + ["failed"]
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.attempts == MAX_ATTEMPTS and "HTTP 500" in delivery.last_error


def test_an_unreachable_service_is_retried_and_its_address_never_recorded(clock, caplog):
    with receiving("wecom", now=clock.time) as wecom:
        target = destination(wecom)
    # The receiver has stopped: nothing listens at the address any more.
    caplog.set_level(logging.DEBUG)
    (delivery_id,) = notify_event("permanent_mute", **FACTS)
    assert delivery_attempt(delivery_id=delivery_id).status == "retrying"
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.last_error.startswith("Could not reach 127.0.0.1")
    assert wecom.token not in delivery.last_error
    assert wecom.token not in caplog.text
    target.refresh_from_db()
    assert target.failing_since == clock()


def test_an_error_echoing_the_key_is_recorded_masked(clock):
    with receiving("wecom", now=clock.time) as wecom:
        wecom.queued = [
            (
                200,
                '{"errcode":93000,"errmsg":"invalid webhook url, key=tok-0123456789abcdef"}',
            )
        ]
        destination(wecom)
        notify_event("permanent_mute", **FACTS)
        assert deliver_all() == ["failed"]
    error = Delivery.objects.get().last_error
    assert "93000" in error and wecom.token not in error


def test_a_destination_failing_for_a_day_is_paused_audited_and_skipped(clock):
    with receiving("webhook", now=clock.time, secret=SECRETS["webhook"]) as hook:
        hook.queued = [(500, "down")] * 3
        target = destination(hook)
        notify_event("permanent_mute", **FACTS)
        deliver_all()
        clock.advance(23 * 3600)
        assert destinations_pause_failing() == []
        notify_event("permanent_mute", **FACTS)
        deliver_all()
        clock.advance(3600)
        assert destinations_pause_failing() == [target.pk]
        # Paused: nothing more is queued for it, and what was waiting is not sent.
        assert notify_event("permanent_mute", **FACTS) == []
        assert deliver_all() == ["skipped", "skipped"]
        assert destinations_pause_failing() == []
    assert len(hook.arrivals) == 3
    target.refresh_from_db()
    assert target.paused and "failed" in target.paused_reason
    (row,) = AuditEntry.objects.filter(action="robot")
    assert row.details["change"] == "paused" and row.details["destination"] == target.name
    assert hook.token not in str(row.details) and SECRETS["webhook"] not in str(row.details)


def test_a_success_within_the_day_starts_the_count_again(clock):
    with receiving("slack", now=clock.time) as slack:
        slack.queued = [(500, "down")]
        target = destination(slack)
        notify_event("permanent_mute", **FACTS)
        deliver_all()
        clock.advance(20 * 3600)
        notify_event("permanent_mute", **FACTS)
        deliver_all()
        clock.advance(5 * 3600)
        assert destinations_pause_failing() == []
    target.refresh_from_db()
    assert target.failing_since is None and not target.paused


def test_request_lines_logged_by_the_http_library_never_hold_the_key(clock, caplog):
    caplog.set_level(logging.DEBUG, logger="urllib3")
    with receiving("wecom", now=clock.time) as wecom:
        destination(wecom)
        notify_event("permanent_mute", **FACTS)
        assert deliver_all() == ["sent"]
    assert "/cgi-bin/webhook/send?key=[redacted]" in caplog.text
    assert wecom.token not in caplog.text


def test_a_delivery_whose_worker_died_mid_send_is_queued_again(clock):
    with receiving("slack", now=clock.time) as slack:
        destination(slack)
        (delivery_id,) = notify_event("permanent_mute", **FACTS)
        Delivery.objects.filter(pk=delivery_id).update(status="sending", last_attempt_at=clock())
        clock.advance(60)
        assert deliveries_recover() == []
        clock.advance(61)
        assert deliveries_recover() == [delivery_id]
        queued = DBTaskResult.objects.filter(task_path=DELIVER_TASK, status=TaskResultStatus.READY)
        assert queued.count() == 2  # the first attempt's task, and this one
        assert delivery_attempt(delivery_id=delivery_id).status == "sent"
    assert len(slack.arrivals) == 1


def test_the_documented_webhook_check_accepts_a_real_delivery(clock):
    """The verification snippet in docs/chat-robots.md, run as written, on what was sent."""
    from pathlib import Path

    from django.utils import timezone
    from requests.structures import CaseInsensitiveDict

    clock.set(timezone.now())  # the snippet reads the real time
    doc = (Path(__file__).resolve().parent.parent / "docs" / "chat-robots.md").read_text()
    snippet = doc.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(snippet, namespace)  # noqa: S102  (the project's own documentation)
    with receiving("webhook", now=clock.time, secret=SECRETS["webhook"]) as hook:
        destination(hook)
        notify_event("permanent_mute", **FACTS)
        assert deliver_all() == ["sent"]
    (arrival,) = hook.arrivals
    headers = CaseInsensitiveDict(arrival.headers)
    verified = namespace["verified"]
    assert verified(SECRETS["webhook"].encode(), headers, arrival.body)
    assert not verified(SECRETS["webhook"].encode(), headers, arrival.body + b" ")
    assert not verified(b"another secret", headers, arrival.body)
