"""What the chart and the mute report read is kept up to date as audit rows complete."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from muteadmin.audit.models import (
    AccountMuteState,
    AuditEntry,
    AuditHourlyCount,
    AuditOperatorHourlyCount,
)
from muteadmin.audit.services import audit_begin, audit_complete
from muteadmin.mutes.services import mute_change
from muteadmin.tencent.nospeaking import PERMANENT

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 25, 10, 5, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def clock(clock):
    """Audit rows are written and completed at the clock's time, starting at T0."""
    clock.set(T0)
    with clock.freeze_django():
        yield clock


def begin(action: str = "query", account: str = "alice", *, operator=None, **fields) -> AuditEntry:
    return audit_begin(operator=operator, action=action, account=account, **fields)


def finish(
    entry: AuditEntry,
    c2c: int | None = None,
    group: int | None = None,
    *,
    outcome: str = "ok",
    **fields,
) -> AuditEntry:
    audit_complete(
        entry=entry,
        outcome=outcome,
        latency_ms=40,
        request_random=1,
        c2c_observed=c2c,
        group_observed=group,
        **fields,
    )
    return entry


def changed(
    account: str,
    requested: tuple[int | None, int | None],
    observed: tuple[int, int],
    *,
    reason: str,
    operator=None,
) -> AuditEntry:
    """A successful change: the (c2c, group) it asked for and the (c2c, group) it left behind."""
    entry = begin(
        "change",
        account,
        operator=operator,
        c2c_requested=requested[0],
        group_requested=requested[1],
        reason=reason,
    )
    return finish(entry, *observed)


def counts() -> dict[tuple[datetime, str, str], int]:
    return {
        (row.hour, row.action, row.outcome): row.count for row in AuditHourlyCount.objects.all()
    }


def operator_counts() -> dict[tuple[str, datetime, str, str], int]:
    return {
        (row.operator_username, row.hour, row.action, row.outcome): row.count
        for row in AuditOperatorHourlyCount.objects.all()
    }


def state(account: str = "alice") -> AccountMuteState:
    return AccountMuteState.objects.get(account=account)


# Hourly counts


def test_completed_rows_are_counted_per_utc_hour_action_and_outcome(clock):
    ten, eleven = T0.replace(minute=0, second=0), T0.replace(minute=0, second=0) + HOUR
    finish(begin(), 0, 0)
    clock.set(ten.replace(minute=59, second=59, microsecond=999_999))
    finish(begin(), 0, 0)
    changed("bob", (600, None), (600, 0), reason="spam")
    crossing = begin()
    clock.set(eleven)
    # Counted in the hour the row was written, whenever it completed.
    finish(crossing, outcome="error", error_code=70107)
    finish(begin(), outcome="error", error_code=70107)
    finish(begin("export", ""), details={"rows": 0})
    begin()  # still pending: not counted yet
    assert counts() == {
        (ten, "query", "ok"): 2,
        (ten, "change", "ok"): 1,
        (ten, "query", "error"): 1,
        (eleven, "query", "error"): 1,
        (eleven, "export", "ok"): 1,
    }


def test_hours_are_utc_whatever_the_site_time_zone(clock, settings):
    settings.TIME_ZONE = "Asia/Kolkata"  # UTC+05:30: local hours start at :30 UTC
    finish(begin(), 0, 0)
    assert list(counts()) == [(T0.replace(minute=0, second=0), "query", "ok")]


def test_each_operators_rows_are_counted_apart_as_well(clock, moderator, lead):
    ten = T0.replace(minute=0, second=0)
    finish(begin(operator=moderator), 0, 0)
    finish(begin(operator=moderator), 0, 0)
    finish(begin(operator=lead), outcome="error", error_code=70107)
    changed("bob", (600, None), (600, 0), reason="spam", operator=lead)
    finish(begin(), 0, 0)  # no operator: counted among everyone's rows only
    begin(operator=lead)  # still pending: not counted yet
    assert counts() == {
        (ten, "query", "ok"): 3,
        (ten, "query", "error"): 1,
        (ten, "change", "ok"): 1,
    }
    assert operator_counts() == {
        (moderator.username, ten, "query", "ok"): 2,
        (lead.username, ten, "query", "error"): 1,
        (lead.username, ten, "change", "ok"): 1,
    }


# The account's last seen state


def test_a_query_records_what_it_saw_and_when_each_mute_ends(clock):
    finish(begin(), 600, 3600)
    seen = state()
    assert (seen.c2c_seconds, seen.group_seconds, seen.observed_at) == (600, 3600, T0)
    assert seen.c2c_expires_at == T0 + timedelta(seconds=600)
    assert seen.group_expires_at == T0 + timedelta(seconds=3600)
    assert seen.active_until == seen.group_expires_at
    # A query is not a change: nobody changed anything yet as far as the dashboard knows.
    assert (seen.last_change_entry, seen.last_change_at, seen.last_operator) == (None, None, "")


def test_a_permanent_mute_never_ends(clock):
    finish(begin(), PERMANENT, 600)
    seen = state()
    assert seen.c2c_expires_at is None
    assert seen.group_expires_at == T0 + timedelta(seconds=600)
    assert seen.active_until == AccountMuteState.FOREVER


def test_a_mute_seen_running_out_stays_recorded_with_its_end_in_the_past(clock):
    finish(begin(), 60, 0)
    clock.set(T0 + HOUR)
    seen = state()
    assert seen.active_until == T0 + timedelta(seconds=60) < timezone.now()
    assert seen.group_expires_at is None


def test_an_extended_mute_moves_its_end_and_names_who_extended_it(clock, moderator, lead):
    changed("alice", (600, None), (600, 0), reason="spam", operator=moderator)
    clock.set(T0 + timedelta(minutes=5))
    extension = changed("alice", (86_400, None), (86_400, 0), reason="spam again", operator=lead)
    seen = state()
    assert seen.c2c_expires_at == clock() + timedelta(days=1)
    assert seen.active_until == seen.c2c_expires_at
    assert (seen.last_change_entry_id, seen.last_change_at) == (extension.pk, clock())
    assert (seen.last_operator, seen.last_reason) == ("lead", "spam again")


def test_a_lifted_mute_leaves_the_account_unmuted(clock, lead):
    changed("alice", (3600, PERMANENT), (3600, PERMANENT), reason="raid", operator=lead)
    clock.set(T0 + HOUR / 2)
    changed("alice", (0, 0), (0, 0), reason="appeal accepted", operator=lead)
    seen = state()
    assert (seen.c2c_seconds, seen.group_seconds) == (0, 0)
    assert (seen.c2c_expires_at, seen.group_expires_at, seen.active_until) == (None, None, None)
    assert seen.last_reason == "appeal accepted"


def test_a_change_to_one_mute_keeps_the_other_running_down(lead):
    mute_change(account="carol", operator=lead, reason="raid", group_seconds=7200)
    mute_change(account="carol", operator=lead, reason="spam", c2c_seconds=600)
    seen = state("carol")
    assert seen.c2c_seconds == 600
    # The group mute was left alone: it ends when it was going to, give or take the clock tick.
    assert 7198 <= seen.group_seconds <= 7200
    first_change = AuditEntry.objects.filter(action="change").order_by("id").first()
    first_end = first_change.completed_at + timedelta(seconds=7200)
    assert abs(seen.group_expires_at - first_end) <= timedelta(seconds=2)
    assert seen.active_until == seen.group_expires_at
    assert seen.last_reason == "spam"


def test_failed_calls_and_calls_without_observations_leave_the_state_alone(clock):
    finish(begin(), 600, 0)
    before = state().observed_entry_id
    finish(begin("change", c2c_requested=0, reason="lift"), outcome="error", error_code=70107)
    finish(begin("export", "alice"), 0, 0)  # not an observation of the account at all
    assert state().observed_entry_id == before
    assert state().c2c_seconds == 600


def test_a_change_that_did_not_ask_first_keeps_the_other_mute_as_last_seen(clock, lead):
    finish(begin(), 0, 7200)
    clock.set(T0 + timedelta(minutes=10))
    # A bulk change sets the C2C mute without querying first: its group mute is unknown.
    changed("alice", (600, None), (600, None), reason="spam wave", operator=lead)
    seen = state()
    assert (seen.c2c_seconds, seen.c2c_expires_at) == (600, clock() + timedelta(minutes=10))
    assert (seen.group_seconds, seen.group_expires_at) == (6600, T0 + timedelta(hours=2))
    assert seen.active_until == T0 + timedelta(hours=2)
    assert seen.last_reason == "spam wave"


def test_a_blind_change_carries_a_permanent_mute_and_drops_one_run_out(clock, lead):
    finish(begin("query", "perm"), 0, PERMANENT)
    finish(begin("query", "short"), 0, 60)
    clock.set(T0 + HOUR)
    changed("perm", (600, None), (600, None), reason="r", operator=lead)
    changed("short", (600, None), (600, None), reason="r", operator=lead)
    changed("new", (None, 300), (None, 300), reason="r", operator=lead)
    assert (state("perm").group_seconds, state("perm").active_until) == (
        PERMANENT,
        AccountMuteState.FOREVER,
    )
    assert (state("short").group_seconds, state("short").group_expires_at) == (0, None)
    # Nothing seen of its C2C mute before: as far as the dashboard knows there is none.
    assert (state("new").c2c_seconds, state("new").c2c_expires_at) == (0, None)
    assert state("new").active_until == clock() + timedelta(seconds=300)


def test_an_older_observation_finishing_late_does_not_win(clock, lead):
    slow_query = begin()  # asked first, answered last
    change = begin("change", operator=lead, c2c_requested=600, reason="spam")
    clock.set(T0 + timedelta(seconds=1))
    finish(change, 600, 0)
    clock.set(T0 + timedelta(seconds=3))
    finish(slow_query, 0, 0)  # saw the account before the mute
    seen = state()
    assert (seen.c2c_seconds, seen.observed_entry_id) == (600, change.pk)
    assert seen.c2c_expires_at == T0 + timedelta(seconds=601)
    assert seen.last_change_entry_id == change.pk


def test_a_late_change_still_counts_as_the_last_change_but_not_as_the_newest_state(clock, lead):
    slow_change = begin("change", operator=lead, c2c_requested=600, reason="spam")
    query = begin()
    finish(query, 0, 0)
    clock.set(T0 + timedelta(seconds=5))
    finish(slow_change, 600, 0)
    seen = state()
    assert (seen.observed_entry_id, seen.c2c_seconds) == (query.pk, 0)
    assert (seen.last_change_entry_id, seen.last_reason) == (slow_change.pk, "spam")


# Rebuilding from the log


def derived_tables() -> tuple[list[tuple], list[tuple], list[tuple]]:
    hourly = sorted(AuditHourlyCount.objects.values_list("hour", "action", "outcome", "count"))
    fields = [f.attname for f in AccountMuteState._meta.concrete_fields if f.name != "id"]
    states = sorted(AccountMuteState.objects.values_list(*fields))
    per_operator = sorted(
        AuditOperatorHourlyCount.objects.values_list(
            "operator_username", "hour", "action", "outcome", "count"
        )
    )
    return hourly, states, per_operator


def test_rebuilding_gives_what_completing_rows_built(clock, moderator, lead):
    for n in range(30):
        clock.set(T0 + timedelta(minutes=17 * n))
        account = f"user{n % 4}"
        if n % 5 == 0:
            changed(account, (600 * n, None), (600 * n, n), reason=f"r{n}", operator=lead)
        elif n % 7 == 0:
            finish(begin(account=account, operator=moderator), outcome="error", error_code=60008)
        else:
            finish(begin(account=account, operator=moderator), max(0, 600 * n - 100), PERMANENT)
    # Finished out of order, blind changes among them, and one still running.
    early, late = begin("change", "user1", c2c_requested=60, reason="late"), begin(account="user1")
    finish(late, 0, 0)
    finish(early, 60, 0)
    slow_query = begin(account="user2")
    blind = begin("change", "user2", group_requested=900, reason="blind")
    finish(blind, None, 900)
    finish(slow_query, 30, 0)
    changed("user5", (None, 60), (None, 60), reason="blind only", operator=lead)
    begin(account="user2")
    finish(begin("export", ""), details={"rows": 12})
    incremental = derived_tables()
    assert len(incremental[1]) == 5
    assert {row[0] for row in incremental[2]} == {moderator.username, lead.username}
    out = StringIO()
    call_command("audit_rebuild_derived", stdout=out)
    assert derived_tables() == incremental
    assert out.getvalue().strip() == (
        f"Rebuilt from 36 completed audit rows: {len(incremental[0])} hourly counts, "
        f"{len(incremental[2])} per operator, 5 account states."
    )


def test_rebuilding_replaces_stale_derived_rows(clock, moderator):
    finish(begin(operator=moderator), 600, 0)
    AuditHourlyCount.objects.update(count=99)
    AuditOperatorHourlyCount.objects.update(count=99)
    AuditOperatorHourlyCount.objects.create(
        operator_username="gone", hour=T0, action="query", outcome="ok", count=5
    )
    AccountMuteState.objects.update(c2c_seconds=1)
    call_command("audit_rebuild_derived", verbosity=0)
    assert list(counts().values()) == [1]
    assert list(operator_counts().values()) == [1]
    assert state().c2c_seconds == 600


def test_upgrading_counts_what_each_operator_did_before_the_upgrade(clock, moderator, lead):
    from importlib import import_module
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    upgrade = import_module("muteadmin.audit.migrations.0005_operator_hourly_reason_index")
    for n in range(12):
        clock.set(T0 + timedelta(minutes=25 * n))
        operator = (moderator, lead, None)[n % 3]
        outcome = "error" if n % 4 == 0 else "ok"
        finish(begin("change" if n % 5 == 0 else "query", operator=operator), outcome=outcome)
    begin(operator=lead)  # still pending
    before = operator_counts()
    AuditOperatorHourlyCount.objects.all().delete()
    upgrade.operator_hourly_counts_fill(apps, SimpleNamespace(connection=connection))
    assert operator_counts() == before
    assert sum(before.values()) == 8


# Several rows completed together


def test_rows_completed_together_are_chained_counted_and_observed_in_the_order_given(
    clock, moderator
):
    from muteadmin.audit.chain import audit_chain_verify
    from muteadmin.audit.services import AuditCompletion, audit_begin_many, audit_complete_many

    alice_then_bob = audit_begin_many(
        operator=moderator, action="change", accounts=["alice", "bob"], c2c_requested=600
    )
    alice_again = begin("change", "alice", operator=moderator, c2c_requested=60)
    already = finish(begin("query", "carol", operator=moderator), 30, 0)
    clock.set(T0 + timedelta(seconds=5))
    audit_complete_many(
        [
            AuditCompletion(
                entry=entry, outcome="ok", latency_ms=40, request_random=1, c2c_observed=seconds
            )
            for entry, seconds in [
                (alice_again, 60),
                (alice_then_bob[1], 600),
                (alice_then_bob[0], 600),
                (already, 999),
            ]
        ]
    )

    chained = AuditEntry.objects.filter(chain_seq__isnull=False).order_by("chain_seq")
    assert list(chained.values_list("account", "c2c_requested", "c2c_observed")) == [
        ("carol", None, 30),
        ("alice", 60, 60),
        ("bob", 600, 600),
        ("alice", 600, 600),
    ]
    assert audit_chain_verify().intact
    assert already.c2c_observed == 30  # completed before: left as it was, and shown so
    assert (alice_again.outcome, alice_again.chain_seq) == ("ok", 2)
    assert counts() == {
        (T0.replace(minute=0, second=0), "query", "ok"): 1,
        (T0.replace(minute=0, second=0), "change", "ok"): 3,
    }
    assert operator_counts()["mod", T0.replace(minute=0, second=0), "change", "ok"] == 3
    # Completed last but begun first, alice's 600 s change is older than her 60 s one.
    assert (state("alice").c2c_seconds, state("alice").last_change_entry_id) == (
        60,
        alice_again.pk,
    )
    assert state("bob").c2c_expires_at == T0 + timedelta(seconds=605)
