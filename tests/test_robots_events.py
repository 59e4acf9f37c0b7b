"""Where things happen, a notification is queued for the destinations that chose it, without
waiting for any chat service; the worker then delivers it."""

import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from muteadmin.approvals.services import mute_request_file
from muteadmin.audit.maintenance import audit_maintenance
from muteadmin.bulk.runner import RunnerConfig, bulk_job_run
from muteadmin.mutes.services import mute_change
from muteadmin.robots.delivery import robots_now
from muteadmin.robots.events import notify_event
from muteadmin.robots.models import EVENTS, Delivery, Destination
from muteadmin.robots.texts import message_render
from muteadmin.robots.watch import limiter_saturation_notify
from muteadmin.tencent.apis import GET_NOSPEAKING
from muteadmin.tencent.nospeaking import PERMANENT
from muteadmin.upstream.models import LimiterPressure
from muteadmin.upstream.pressure import pressure_record, pressure_reset
from muteadmin.upstream.ratelimit import upstream_slot
from tests.conftest import FakeClock, audit_completed, bulk_job
from tests.robot_receivers import receiving

SECRET = "whsec-0123456789abcdef0123456789"


def listening(*events: str, url: str = "https://hooks.example.com/x", **fields) -> Destination:
    now = robots_now()
    return Destination.objects.create(
        name=fields.pop("name", "ops"),
        kind="webhook",
        url=url,
        secret=SECRET,
        events=list(events),
        created_at=now,
        updated_at=now,
        **fields,
    )


def pressure_cleared() -> None:
    """No wait recorded yet. Threads of other tests wait on their own connections, whose rows
    PostgreSQL keeps after those tests."""
    LimiterPressure.objects.all().delete()
    pressure_reset()


def queued(event: str) -> list[dict]:
    return [d.facts for d in Delivery.objects.filter(event=event).order_by("id")]


@pytest.mark.django_db
def test_a_permanent_mute_is_announced_and_a_timed_one_is_not(lead):
    listening("permanent_mute")
    mute_change(account="alice", operator=lead, reason="spam", c2c_seconds=600)
    assert queued("permanent_mute") == []
    mute_change(account="bob", operator=lead, reason="scam links", group_seconds=PERMANENT)
    (facts,) = queued("permanent_mute")
    assert facts["account"] == "bob" and facts["operator"] == "lead"
    assert (facts["group_seconds"], facts["c2c_seconds"], facts["reason"]) == (
        PERMANENT,
        None,
        "scam links",
    )


@pytest.mark.django_db
def test_a_refused_permanent_mute_is_not_announced(moderator):
    listening("permanent_mute")
    with pytest.raises(Exception):  # noqa: B017  (a moderator's limit refuses it)
        mute_change(account="bob", operator=moderator, reason="r", group_seconds=PERMANENT)
    assert queued("permanent_mute") == []


@pytest.mark.django_db
def test_a_request_filed_is_announced_to_those_who_decide(moderator):
    listening("request_waiting")
    request = mute_request_file(
        requester=moderator, account="carol", reason="threats", c2c_seconds=30 * 86400
    )
    (facts,) = queued("request_waiting")
    assert (facts["request"], facts["account"], facts["requester"]) == (request.pk, "carol", "mod")
    assert facts["c2c_seconds"] == 30 * 86400 and facts["expires_at"].startswith("20")


@pytest.mark.django_db
def test_a_bulk_job_is_announced_once_when_it_ends_not_per_account(lead):
    listening("bulk_finished", "permanent_mute")
    job = bulk_job(
        operator=lead,
        operation="set",
        accounts=["a1", "a2", "a3"],
        c2c_seconds=PERMANENT,
        reason="raid",
    )
    clock = FakeClock(start=time.time())
    config = RunnerConfig(threads=1, clock=clock, sleep=clock.sleep)
    bulk_job_run(job_id=job.pk, worker="test:1:run", config=config)
    assert queued("permanent_mute") == []
    (facts,) = queued("bulk_finished")
    assert facts == {
        "job": job.pk,
        "operation": "set",
        "app": "default",
        "operator": "lead",
        "state": "done",
        "ok": 3,
        "errors": 0,
        "not_sent": 0,
    }
    assert f"Bulk job {job.pk}" in message_render("bulk_finished", facts, language="en").text


@pytest.mark.django_db
def test_a_checkpoint_written_is_announced_with_the_chain_head():
    listening("checkpoint_written")
    head = audit_completed()
    call_command("audit_checkpoint", stdout=StringIO())
    facts = queued("checkpoint_written")[-1]
    head.refresh_from_db()
    assert (facts["last_id"], facts["rows"], facts["head"]) == (
        head.pk,
        head.chain_seq,
        head.chain_hash,
    )


@pytest.mark.django_db
def test_a_failed_verification_is_announced_and_a_passing_one_is_not():
    listening("audit_verify_failed")
    rows = [audit_completed(account=f"user{n}") for n in range(3)]
    call_command("audit_verify", stdout=StringIO())
    assert queued("audit_verify_failed") == []
    with audit_maintenance(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET reason = 'x' WHERE id = %s", [rows[1].pk])
    with pytest.raises(SystemExit):
        call_command("audit_verify", stdout=StringIO(), stderr=StringIO())
    (facts,) = queued("audit_verify_failed")
    assert str(rows[1].pk) in facts["sentence"]


@pytest.mark.django_db
def test_a_limiter_saturated_for_over_a_minute_is_announced_once(clock):
    listening("limiter_saturated")
    pressure_cleared()
    key = f"default:{GET_NOSPEAKING.path}"
    for _ in range(13):  # every 5 s for a minute
        pressure_record(key=key)
        pressure_reset()
        clock.advance(5)
    assert limiter_saturation_notify() == [key]
    assert limiter_saturation_notify() == []  # the same stretch is told of once
    (facts,) = queued("limiter_saturated")
    assert (facts["app"], facts["api"], facts["seconds"]) == ("default", GET_NOSPEAKING.path, 60)
    # Quiet for a while, then short waits: a new stretch, too short to tell of.
    clock.advance(60)
    pressure_record(key=key)
    assert limiter_saturation_notify() == []


@pytest.mark.django_db
def test_a_caller_made_to_wait_for_a_slot_is_recorded_as_pressure(clock):
    pressure_cleared()
    upstream_slot(app="default", api=GET_NOSPEAKING, limit=1, timeout=1).sent()
    assert not LimiterPressure.objects.exists()
    with pytest.raises(Exception):  # noqa: B017  (the second is refused after waiting)
        upstream_slot(app="default", api=GET_NOSPEAKING, limit=1, timeout=0.05)
    (row,) = LimiterPressure.objects.all()
    assert row.key == f"default:{GET_NOSPEAKING.path}" and row.since == clock()


@pytest.mark.django_db
def test_with_no_destination_an_event_reads_one_table_and_writes_nothing():
    with CaptureQueriesContext(connection) as context:
        assert notify_event("permanent_mute", account="a") == []
    statements = [query["sql"].split()[0].upper() for query in context.captured_queries]
    assert statements.count("SELECT") == 1
    assert not {"INSERT", "UPDATE", "DELETE"} & set(statements)


@pytest.mark.django_db
def test_a_paused_destination_is_not_queued_for():
    listening("permanent_mute", paused_at=robots_now(), paused_reason="failing")
    assert notify_event("permanent_mute", account="a") == []


@pytest.mark.django_db
@pytest.mark.parametrize("event", [*EVENTS, "test"])
def test_every_message_has_its_simplified_chinese_text(event):
    english = message_render(event, {}, language="en")
    chinese = message_render(event, {}, language="zh-hans")
    assert english.title != chinese.title and english.text != chinese.text
    assert not any("a" <= char <= "z" for char in chinese.title.removeprefix("[muteadmin] "))


# Committed, as the worker sees it.
@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_what_was_queued(clock):
    with receiving("webhook", now=clock.time, secret=SECRET) as hook:
        listening("permanent_mute", url=hook.url)
        notify_event("permanent_mute", account="alice", operator="lead", reason="spam")
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")
    assert hook.problems == [] and len(hook.arrivals) == 1
    assert Delivery.objects.get().status == "sent"
