"""core/sql: plain statements the ORM builds slowly, and the quoted names they are written with."""

import pytest

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_begin
from muteadmin.core.sql import quoted_names, update_each

pytestmark = pytest.mark.django_db


def begun(*accounts: str) -> list[AuditEntry]:
    return [audit_begin(operator=None, action="query", account=account) for account in accounts]


@pytest.mark.parametrize("count", [1, 3])
def test_each_row_gets_its_own_values_and_the_count_is_returned(count):
    entries = begun(*(f"user{n}" for n in range(count)))
    rows = [(n * 10, f"info {n}", entry.pk) for n, entry in enumerate(entries)]
    changed = update_each(AuditEntry, ("latency_ms", "error_info"), rows)
    assert changed == count
    stored = AuditEntry.objects.order_by("pk").values_list("latency_ms", "error_info")
    assert list(stored) == [(n * 10, f"info {n}") for n in range(count)]


@pytest.mark.parametrize("count", [1, 2])
def test_rows_where_the_condition_fails_are_left_alone(count):
    entries = begun(*(f"user{n}" for n in range(count)))
    rows = [(5, entry.pk) for entry in entries]
    changed = update_each(AuditEntry, ("latency_ms",), rows, where={"account": "user0"})
    assert changed == 1
    assert dict(AuditEntry.objects.values_list("account", "latency_ms")) == {
        f"user{n}": 5 if n == 0 else None for n in range(count)
    }


def test_no_rows_runs_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert update_each(AuditEntry, ("latency_ms",), []) == 0


@pytest.mark.django_db
def test_a_counter_statement_adds_to_the_matching_row_only():
    from datetime import UTC, datetime

    from muteadmin.audit.models import AuditHourlyCount
    from muteadmin.core.sql import counter_statement, statements_run

    def counter_add(model, **counter) -> int:
        (result,) = statements_run([counter_statement(model, **counter)], using="default")
        return result.rowcount

    hour = datetime(2026, 12, 6, 4, tzinfo=UTC)
    AuditHourlyCount.objects.create(hour=hour, action="query", outcome="ok", app="default", count=3)
    AuditHourlyCount.objects.create(
        hour=hour, action="change", outcome="ok", app="default", count=1
    )
    where = {"hour": hour, "action": "query", "outcome": "ok", "app": "default"}
    assert counter_add(AuditHourlyCount, where=where, field="count", amount=2) == 1
    assert (
        counter_add(AuditHourlyCount, where={**where, "outcome": "error"}, field="count", amount=2)
        == 0
    )
    counts = dict(AuditHourlyCount.objects.values_list("action", "count"))
    assert counts == {"query": 5, "change": 1}


def test_counter_statements_count_each_in_one_statement_and_report_the_missing(
    django_assert_num_queries,
):
    from datetime import UTC, datetime

    from django.db import connection

    from muteadmin.audit.models import AuditHourlyCount, AuditOperatorHourlyCount
    from muteadmin.core.sql import counter_statement, statements_run

    hour = datetime(2026, 12, 6, 4, tzinfo=UTC)
    where = {"hour": hour, "action": "query", "outcome": "ok", "app": "default"}
    AuditHourlyCount.objects.create(**where, count=3)
    AuditOperatorHourlyCount.objects.create(**where, operator_username="mod1", count=1)
    counters = [
        (AuditHourlyCount, where, 2),
        (AuditOperatorHourlyCount, {**where, "operator_username": "mod1"}, 4),
        (AuditOperatorHourlyCount, {**where, "operator_username": "mod2"}, 1),
    ]
    statements = 1 if connection.vendor == "postgresql" else len(counters)
    with django_assert_num_queries(statements):
        written = statements_run(
            [
                counter_statement(model, where=key, field="count", amount=amount)
                for model, key, amount in counters
            ],
            using="default",
        )
        changed = [result.rowcount for result in written]
    assert changed == [1, 1, 0]
    assert AuditHourlyCount.objects.get().count == 5
    assert dict(AuditOperatorHourlyCount.objects.values_list("operator_username", "count")) == {
        "mod1": 5
    }


def test_row_where_reads_a_row_as_the_orm_reads_it():
    from muteadmin.core.sql import row_where

    (entry,) = begun("alice")
    AuditEntry.objects.filter(pk=entry.pk).update(latency_ms=7, request_random=None)
    fields = ("id", "created_at", "latency_ms", "request_random", "operator_id", "details")
    read = row_where(AuditEntry, fields, where={"account": "alice", "action": "query"})
    assert read == AuditEntry.objects.values(*fields).get(pk=entry.pk)
    assert read["created_at"].tzinfo is not None


def test_row_where_finds_nothing():
    from muteadmin.core.sql import row_where

    begun("alice")
    assert row_where(AuditEntry, ("id",), where={"account": "bob"}) is None


def test_quoted_names_name_the_table_and_columns_a_plain_select_reads():
    entry = begun("alice")[0]
    connection, table, column = quoted_names(AuditEntry)
    sql = f"SELECT {column('account')} FROM {table} WHERE {column('id')} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [entry.pk])
        assert cursor.fetchone() == ("alice",)
    assert table == connection.ops.quote_name(AuditEntry._meta.db_table)


def test_insert_one_saves_a_new_row_as_save_does(django_assert_num_queries):
    from muteadmin.core.sql import insert_one

    entry = AuditEntry(operator=None, operator_username="mod1", action="query", account="alice")
    with django_assert_num_queries(1):
        insert_one(entry)
    assert entry.pk is not None
    assert not entry._state.adding
    stored = AuditEntry.objects.get(pk=entry.pk)
    # Defaults and auto_now_add applied as save() applies them, on the object and in the row.
    assert stored.outcome == entry.outcome == AuditEntry.Outcome.PENDING
    assert stored.details == entry.details == {}
    assert stored.created_at == entry.created_at
    assert (stored.operator_username, stored.account) == ("mod1", "alice")


def test_statements_run_returns_each_statements_rows_and_count(django_assert_num_queries):
    from django.db import connection

    from muteadmin.core.sql import Statement, statements_run

    alice, bob = begun("alice", "bob")
    _, table, column = quoted_names(AuditEntry)
    # Only quoted names from the model are formatted in; every value is a parameter.
    select = f"SELECT {column('account')} FROM {table} WHERE {column('id')} = %s"  # noqa: S608
    latency, ids = column("latency_ms"), column("id")
    update = f"UPDATE {table} SET {latency} = %s WHERE {ids} IN (%s, %s)"  # noqa: S608
    none = f"SELECT {column('latency_ms')} FROM {table} WHERE {column('account')} = %s"  # noqa: S608
    statements = [
        Statement(select, [bob.pk]),
        Statement(update, [9, alice.pk, bob.pk]),
        Statement(none, ["nobody"]),
    ]
    # One round trip on PostgreSQL, one statement at a time elsewhere.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 3):
        selected, updated, empty = statements_run(statements, using="default")
    assert (selected.rows, selected.rowcount) == ([("bob",)], 1)
    assert (updated.rows, updated.rowcount) == ([], 2)
    assert (empty.rows, empty.rowcount) == ([], 0)
    assert set(AuditEntry.objects.values_list("latency_ms", flat=True)) == {9}


def test_update_statements_set_what_update_each_sets():
    from muteadmin.core.sql import statements_run, update_statements

    entries = begun("alice", "bob", "carol")
    rows = [(n, f"info {n}", entry.pk) for n, entry in enumerate(entries)]
    statements = update_statements(
        AuditEntry, ("latency_ms", "error_info"), rows, where={"account": "bob"}
    )
    assert [result.rowcount for result in statements_run(statements, using="default")] == [0, 1, 0]
    assert dict(AuditEntry.objects.values_list("account", "error_info")) == {
        "alice": "",
        "bob": "info 1",
        "carol": "",
    }


def test_reads_run_gives_each_read_its_own_rows(django_assert_num_queries):
    from django.db import connection

    from muteadmin.core.sql import Read, Statement, reads_run

    alice, bob = begun("alice", "bob")
    _, table, column = quoted_names(AuditEntry)
    # Only quoted names from the model are formatted in; every value is a parameter.
    sql = f"SELECT {column('account')} FROM {table} WHERE {column('id')} = %s"  # noqa: S608

    def account_of(entry: AuditEntry) -> Read[str | None]:
        return Read(Statement(sql, [entry.pk]), lambda rows: rows[0][0] if rows else None)

    nobody = Read(Statement(sql, [0]), lambda rows: rows[0][0] if rows else None)
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 3):
        assert reads_run(account_of(bob), nobody, account_of(alice)) == ["bob", None, "alice"]
