"""audit_call and audit_calls: a row committed before the call, completed with what it returned."""

import json
import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from muteadmin.audit.chain import (
    CHAIN_FIELDS,
    GENESIS_HASH,
    audit_chain_verify,
    chain_hash,
    chain_serialise,
)
from muteadmin.audit.models import AccountMuteState, AuditEntry, AuditHourlyCount
from muteadmin.audit.selectors import OPERATION_ROWS
from muteadmin.audit.services import audit_begin, audit_call, audit_calls, job_correlation_id
from muteadmin.mutes.services import mute_change, mute_change_many, mute_get, mute_get_many
from muteadmin.tencent.errors import TencentError


def query_fields(operator) -> dict:
    return {"operator": operator, "action": AuditEntry.Action.QUERY}


# Serialized rollback, like the transactional tests that run after this one (test_browser).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_row_is_committed_pending_before_the_body_runs(moderator):
    with audit_call(account="alice", **query_fields(moderator)) as call:
        # Outside any transaction, and already in the table: a crash from here on leaves it.
        assert transaction.get_autocommit()
        assert AuditEntry.objects.get(pk=call.entry.pk).outcome == "pending"
        call.ok(request_random=7, c2c_observed=60, group_observed=0)
    entry = AuditEntry.objects.get(pk=call.entry.pk)
    assert (entry.outcome, entry.request_random, entry.c2c_observed, entry.group_observed) == (
        "ok",
        7,
        60,
        0,
    )
    assert entry.chain_seq == 1 and entry.completed_at is not None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_only_the_completion_commits_without_waiting_for_the_disk(moderator):
    with (
        CaptureQueriesContext(connection) as queries,
        audit_call(account="alice", **query_fields(moderator)) as call,
    ):
        begun = len(queries.captured_queries)
        call.ok(request_random=7, c2c_observed=60, group_observed=0)
    sql = [query["sql"] for query in queries.captured_queries]
    # The pending row's INSERT commits durably on its own, before the call.
    assert [statement.split()[0] for statement in sql[:begun]] == ["INSERT"]
    assert any("'synchronous_commit', 'off', true" in statement for statement in sql[begun:])
    # Only for the completion's transaction: the connection is back to durable commits.
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)
    assert audit_chain_verify().intact


@pytest.mark.django_db
def test_a_crash_in_the_body_leaves_the_row_pending(moderator):
    with pytest.raises(SystemExit), audit_call(account="alice", **query_fields(moderator)):
        raise SystemExit("worker killed")
    assert AuditEntry.objects.get().outcome == "pending"


@pytest.mark.django_db
def test_tencents_error_is_recorded_and_raised_again(moderator):
    error = TencentError(error_code=70107, error_info="account not found", random=99)
    with pytest.raises(TencentError), audit_call(account="alice", **query_fields(moderator)):
        raise error
    entry = AuditEntry.objects.get()
    assert (entry.outcome, entry.error_code, entry.error_info, entry.request_random) == (
        "error",
        70107,
        "account not found",
        99,
    )


@pytest.mark.django_db
def test_a_fault_on_our_side_closes_the_row_as_an_error(moderator):
    with pytest.raises(KeyError), audit_call(account="alice", **query_fields(moderator)):
        raise KeyError("oops")
    entry = AuditEntry.objects.get()
    assert (entry.outcome, entry.error_info) == ("error", "Internal error (KeyError).")


@pytest.mark.django_db
def test_a_body_that_records_nothing_does_not_pass_for_a_success(moderator):
    with audit_call(account="alice", **query_fields(moderator)):
        pass
    entry = AuditEntry.objects.get()
    assert entry.outcome == "error"
    assert entry.error_info.startswith("Internal error")


@pytest.mark.django_db
def test_a_batch_begins_in_one_insert_and_completes_in_one_transaction(moderator):
    accounts = [f"user{n}" for n in range(5)]
    batch = audit_calls(accounts=accounts, **query_fields(moderator))
    with CaptureQueriesContext(connection) as begun:
        calls = batch.__enter__()
    assert statements(begun, "INSERT") == 1
    assert AuditEntry.objects.filter(outcome="pending").count() == 5
    for number, call in enumerate(calls):
        if number == 2:
            call.failed(TencentError(error_code=20003, error_info="no such user", random=1))
        else:
            call.ok(request_random=number, c2c_observed=number, group_observed=0)
    with CaptureQueriesContext(connection) as completed:
        batch.__exit__(None, None, None)
    # Inside the test's own transaction, a transaction shows as one savepoint.
    assert statements(completed, "SAVEPOINT") == 1
    outcomes = dict(AuditEntry.objects.values_list("account", "outcome"))
    assert outcomes == {f"user{n}": "error" if n == 2 else "ok" for n in range(5)}
    assert sorted(AuditEntry.objects.values_list("chain_seq", flat=True)) == [1, 2, 3, 4, 5]
    assert audit_chain_verify().intact


def statements(queries: CaptureQueriesContext, verb: str) -> int:
    return sum(query["sql"].startswith(verb) for query in queries.captured_queries)


@pytest.mark.django_db
def test_a_crash_in_a_batch_leaves_every_row_pending(moderator):
    with (
        pytest.raises(KeyboardInterrupt),
        audit_calls(accounts=["a", "b"], **query_fields(moderator)) as calls,
    ):
        calls[0].ok(request_random=1)
        raise KeyboardInterrupt
    assert set(AuditEntry.objects.values_list("outcome", flat=True)) == {"pending"}


# Correlation ids


@pytest.mark.django_db
def test_the_query_before_a_change_and_the_change_share_one_correlation_id(lead):
    mute_change(account="alice", operator=lead, reason="spam", c2c_seconds=600)
    query, change = AuditEntry.objects.order_by("id")
    assert (query.action, change.action) == ("query", "change")
    assert query.correlation_id is not None
    assert query.correlation_id == change.correlation_id
    mute_change(account="alice", operator=lead, reason="spam", c2c_seconds=0)
    later = AuditEntry.objects.order_by("-id").first()
    assert later.correlation_id != change.correlation_id


@pytest.mark.django_db
def test_separate_lookups_have_their_own_correlation_ids(moderator):
    mute_get(account="alice", operator=moderator)
    mute_get(account="alice", operator=moderator)
    assert len(set(AuditEntry.objects.values_list("correlation_id", flat=True))) == 2


@pytest.mark.django_db
def test_a_bulk_jobs_rows_share_the_jobs_correlation_id(lead):
    mute_get_many(accounts=["a", "b"], operator=lead, job_id=41)
    mute_change_many(accounts=["a", "b"], operator=lead, reason="spam", c2c_seconds=60, job_id=41)
    mute_change(account="c", operator=lead, reason="spam", c2c_seconds=60, job_id=41)
    mute_get(account="d", operator=lead, job_id=42)
    ids = AuditEntry.objects.filter(job_id=41).values_list("correlation_id", flat=True)
    assert set(ids) == {job_correlation_id(41)}
    assert len(ids) == 6
    assert AuditEntry.objects.get(job_id=42).correlation_id == job_correlation_id(42)
    assert job_correlation_id(41) != job_correlation_id(42)


@pytest.mark.django_db
def test_the_detail_page_links_the_other_rows_of_the_operation(as_lead, lead):
    mute_change(account="alice", operator=lead, reason="spam", c2c_seconds=600)
    mute_get(account="bob", operator=lead)
    query, change, unrelated = AuditEntry.objects.order_by("id")
    html = as_lead.get(reverse("audit:detail", args=[change.pk])).content.decode()
    assert f'href="{reverse("audit:detail", args=[query.pk])}"' in html
    assert f'data-sibling="{query.pk}"' in html
    assert f'data-sibling="{unrelated.pk}"' not in html
    assert str(change.correlation_id) in html
    alone = as_lead.get(reverse("audit:detail", args=[unrelated.pk])).content.decode()
    assert "data-sibling" not in alone


def test_a_correlation_id_is_hashed_and_a_row_without_one_hashes_as_before():
    fields = dict.fromkeys(CHAIN_FIELDS) | {"id": 1, "action": "query", "outcome": "ok"}
    without = chain_serialise(previous=GENESIS_HASH, fields=fields)
    version_one = json.dumps(
        {"prev": GENESIS_HASH, "row": fields}, sort_keys=True, separators=(",", ":")
    ).encode()
    assert without == version_one
    operation = uuid.uuid4()
    with_id = chain_serialise(previous=GENESIS_HASH, fields=fields | {"correlation_id": operation})
    assert f'"correlation_id":"{operation}"'.encode() in with_id
    assert chain_hash(previous=GENESIS_HASH, fields=fields | {"correlation_id": operation}) != (
        chain_hash(previous=GENESIS_HASH, fields=fields | {"correlation_id": uuid.uuid4()})
    )


@pytest.mark.django_db
def test_rows_from_before_correlation_ids_and_rows_with_them_verify_together(moderator):
    with audit_call(account="older", **query_fields(moderator)) as call:
        # As a row written before the column existed: no correlation id.
        AuditEntry.objects.filter(pk=call.entry.pk).update(correlation_id=None)
        call.ok(request_random=1)
    mute_get(account="alice", operator=moderator)
    assert AuditEntry.objects.get(account="older").correlation_id is None
    assert AuditEntry.objects.get(account="alice").correlation_id is not None
    assert audit_chain_verify().intact


@pytest.mark.django_db
def test_a_large_operation_lists_some_rows_and_links_the_rest(as_lead, lead):
    mute_get_many(accounts=[f"user{n}" for n in range(OPERATION_ROWS + 3)], operator=lead, job_id=9)
    first = AuditEntry.objects.order_by("id").first()
    html = as_lead.get(reverse("audit:detail", args=[first.pk])).content.decode()
    assert html.count("data-sibling=") == OPERATION_ROWS
    assert "2 more rows of this operation are not listed" in html
    assert f'href="{reverse("audit:list")}?job=9"' in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's fast path")
@pytest.mark.django_db
def test_a_row_completed_in_one_statement_reads_back_as_the_orm_reads_it(moderator):
    from muteadmin.audit.chain import CHAIN_LOCK_KEY, HASHED_FIELDS
    from muteadmin.audit.returning import complete_returning

    with audit_call(account="earlier", **query_fields(moderator)) as call:
        call.ok(request_random=1)
    entry = audit_begin(
        account="ünïcode",
        **query_fields(moderator),
        reason="why <b>",
        client_ip="2001:db8::1",
        details={"note": "ü", "n": [1, 2]},
    )

    def target(entry_id: int) -> dict:
        return {"entry_id": entry_id, "completed_at": timezone.now(), "using": "default"} | {
            "then_lock": CHAIN_LOCK_KEY,
            "flush_on_commit": True,
        }

    values = {"latency_ms": 12, "request_random": 99, "c2c_observed": 60, "group_observed": 0}
    values |= {"error_code": None, "error_info": ""}
    with transaction.atomic():
        row = complete_returning(**target(entry.pk), values=values)
    assert row == AuditEntry.objects.filter(pk=entry.pk).values(*HASHED_FIELDS).get()
    assert row["details"] == {"note": "ü", "n": [1, 2]}
    # A completed row is left alone.
    done = AuditEntry.objects.get(account="earlier")
    with transaction.atomic():
        row = complete_returning(**target(done.pk), values=values)
    assert row is None
    assert AuditEntry.objects.get(pk=done.pk).latency_ms == done.latency_ms


@pytest.mark.django_db
def test_a_lone_completion_reads_once_and_writes_once_after_the_fill(moderator):
    # The chain's head travels with the account's stored state, and the seal with the counts'
    # and the state's UPDATEs: one round trip each on PostgreSQL (core.sql.statements_run).
    with audit_call(account="alice", **query_fields(moderator)) as call:
        call.ok(request_random=1, c2c_observed=60, group_observed=0)  # a state to update
    batch = audit_calls(accounts=["alice"], **query_fields(moderator))
    (call,) = batch.__enter__()
    call.ok(request_random=2, c2c_observed=30, group_observed=0)
    with CaptureQueriesContext(connection) as completed:
        batch.__exit__(None, None, None)
    sql = [query["sql"] for query in completed.captured_queries]
    reads = [s for s in sql if "chain_seq" in s and s.startswith("SELECT")]
    writes = [s for s in sql if s.startswith("UPDATE") and "chain_hash" in s]
    if connection.vendor == "postgresql":
        (read,) = reads
        assert "audit_accountmutestate" in read
        (write,) = writes
        assert "audit_audithourlycount" in write and "audit_accountmutestate" in write
        # SAVEPOINT, the fill, the read, the write, RELEASE SAVEPOINT
        assert len(sql) == 5
    state = AccountMuteState.objects.get(account="alice")
    assert (state.c2c_seconds, state.observed_entry_id) == (30, call.entry.pk)
    assert AuditHourlyCount.objects.get(action="query", outcome="ok").count == 2
    assert audit_chain_verify().intact
