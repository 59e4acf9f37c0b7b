"""The audit log cannot be quietly rewritten: the chain exposes edits, the database refuses them."""

import threading

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import DatabaseError, connection

from muteadmin.audit.chain import GENESIS_HASH, chain_hash_keyed, chain_key
from muteadmin.audit.maintenance import audit_maintenance
from muteadmin.audit.models import AccountMuteState, AuditEntry, AuditHourlyCount
from muteadmin.audit.services import audit_begin
from tests.audit_fixtures import raw, refused, verify
from tests.conftest import audit_begun, audit_completed, audit_finished

# Transactional tests here use serialized_rollback, like the browser tests that run after them:
# a flush without it recreates content types under new ids, which their reload then collides with.
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite's in-memory test database has no concurrent writers "
    "and no TRUNCATE (CI runs this suite on PostgreSQL too)",
)


# The chain


@pytest.mark.django_db
def test_an_intact_chain_verifies_and_prints_its_last_hash():
    rows = [audit_completed(account=f"user{n}") for n in range(5)]
    audit_begun(account="still-running")  # pending rows are not in the chain yet
    status, out, err = verify("--batch-size", "2")
    assert status == 0
    assert err == ""
    assert out.splitlines() == [
        "Chain intact: 5 rows checked.",
        "Keyed rows: from chain position 1 on, checked with AUDIT_CHAIN_KEY.",
        "Checkpoints: none read (set AUDIT_CHECKPOINT_PATH, or pass --checkpoints FILE).",
        f"Last hash: {rows[-1].chain_hash}",
    ]


@pytest.mark.django_db
def test_an_empty_log_verifies():
    assert verify() == (
        0,
        "Chain intact: 0 rows checked.\n"
        "Keyed rows: none yet (every row was chained before AUDIT_CHAIN_KEY was set).\n"
        "Checkpoints: none read (set AUDIT_CHECKPOINT_PATH, or pass --checkpoints FILE).\n"
        f"Last hash: {GENESIS_HASH}\n",
        "",
    )


@pytest.mark.django_db
def test_rows_are_chained_in_the_order_they_complete():
    first, second, third = audit_begun(reason="a"), audit_begun(reason="b"), audit_begun(reason="c")
    for entry in (second, third, first):
        audit_finished(entry)
    stored = {row.pk: row for row in AuditEntry.objects.all()}
    assert [stored[e.pk].chain_seq for e in (second, third, first)] == [1, 2, 3]
    previous = GENESIS_HASH
    for entry in (second, third, first):
        row = AuditEntry.objects.filter(pk=entry.pk).values().get()
        assert row["chain_hash"] == chain_hash_keyed(previous=previous, fields=row, key=chain_key())
        assert entry.chain_hash == row["chain_hash"]
        previous = row["chain_hash"]


@pytest.mark.django_db
def test_completing_a_row_twice_does_not_chain_it_twice():
    entry = audit_completed()
    audit_finished(entry, outcome="error", error_code=1)
    assert entry.outcome == "ok"
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.outcome, stored.chain_seq) == ("ok", 1)
    assert AuditHourlyCount.objects.get().count == 1
    assert verify()[0] == 0


@pytest.mark.django_db
def test_a_reason_rewritten_through_raw_sql_is_caught():
    rows = [audit_completed(reason=f"reason {n}") for n in range(4)]
    target = rows[2]
    with audit_maintenance():
        raw("UPDATE audit_auditentry SET reason = %s WHERE id = %s", ["nothing to see", target.pk])
    status, out, err = verify("--batch-size", "2")
    assert status == 1
    assert out == ""
    assert err.strip() == (
        f"Chain broken at audit row #{target.pk} (chain position 3): its contents no longer "
        "match the hash written when it completed, so it was changed afterwards."
    )


@pytest.mark.django_db
def test_a_deleted_row_leaves_a_gap_that_is_caught():
    rows = [audit_completed(reason=f"reason {n}") for n in range(4)]
    with audit_maintenance():
        raw("DELETE FROM audit_auditentry WHERE id = %s", [rows[1].pk])
    status, _, err = verify()
    assert status == 1
    assert err.strip() == (
        f"Chain broken at audit row #{rows[2].pk} (chain position 3): chain position 2 is "
        "missing, so rows before it were deleted or renumbered."
    )


@pytest.mark.django_db
def test_a_deleted_first_row_is_caught():
    rows = [audit_completed() for _ in range(2)]
    with audit_maintenance():
        raw("DELETE FROM audit_auditentry WHERE id = %s", [rows[0].pk])
    status, _, err = verify()
    assert status == 1
    assert f"audit row #{rows[1].pk} (chain position 2)" in err


@pytest.mark.django_db
def test_a_completed_row_outside_the_chain_is_caught():
    audit_completed()
    entry = audit_begun()
    # Completed behind audit_complete's back: never hashed.
    raw("UPDATE audit_auditentry SET outcome = 'ok' WHERE id = %s", [entry.pk])
    status, _, err = verify()
    assert status == 1
    assert err.strip() == (
        f"Chain broken at audit row #{entry.pk} (no chain position): it is completed but was "
        "never linked into the chain."
    )


@pytest.mark.django_db
def test_deleting_the_operator_leaves_the_chain_intact(moderator):
    audit_completed(moderator)
    audit_completed(moderator)
    moderator.delete()
    assert AuditEntry.objects.filter(operator__isnull=True).count() == 2
    assert verify()[0] == 0


@pytest.mark.django_db
def test_export_details_given_at_completion_are_merged_and_chained(lead):
    entry = audit_begin(
        operator=lead, action="export", account="", details={"filters": {"account": ["a"]}}
    )
    audit_finished(entry, c2c_observed=None, group_observed=None, details={"rows": 3})
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.details == {"filters": {"account": ["a"]}, "rows": 3}
    assert entry.details == stored.details
    assert verify()[0] == 0


# The database's own guard (the model refuses too; these go around it with raw SQL)


@pytest.mark.django_db
def test_the_database_refuses_to_change_a_completed_row():
    entry = audit_completed()
    message = refused("UPDATE audit_auditentry SET reason = 'rewritten' WHERE id = %s", [entry.pk])
    assert "audit rows are append-only" in message
    assert AuditEntry.objects.get(pk=entry.pk).reason == "spam"


@pytest.mark.django_db
def test_the_database_refuses_to_give_a_completed_row_another_operator(moderator, lead):
    entry = audit_completed(moderator)
    refused("UPDATE audit_auditentry SET operator_id = %s WHERE id = %s", [lead.pk, entry.pk])
    unlink_and_edit = "UPDATE audit_auditentry SET operator_id = NULL, reason = 'x' WHERE id = %s"
    refused(unlink_and_edit, [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).operator == moderator


@pytest.mark.django_db
def test_the_database_refuses_to_delete_any_row():
    done, running = audit_completed(), audit_begun()
    for entry in (done, running):
        message = refused("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
        assert "audit rows are append-only" in message
    assert "append-only" in refused("DELETE FROM audit_auditentry")
    assert AuditEntry.objects.count() == 2


@postgresql_only
# Committed first: PostgreSQL will not TRUNCATE a table with its own transaction's checks pending.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_postgresql_refuses_to_truncate_the_log():
    audit_completed()
    message = refused("TRUNCATE audit_auditentry")
    assert "audit rows are append-only" in message
    assert AuditEntry.objects.count() == 1


@pytest.mark.django_db
def test_a_pending_row_can_still_be_completed_in_sql():
    entry = audit_begun()
    raw("UPDATE audit_auditentry SET error_info = 'still running' WHERE id = %s", [entry.pk])
    audit_finished(entry)
    assert AuditEntry.objects.get(pk=entry.pk).outcome == "ok"


@pytest.mark.django_db
def test_the_maintenance_switch_is_off_again_after_its_block():
    entry = audit_completed()
    with audit_maintenance():
        raw("UPDATE audit_auditentry SET reason = 'repaired' WHERE id = %s", [entry.pk])
    refused("UPDATE audit_auditentry SET reason = 'again' WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).reason == "repaired"


@pytest.mark.django_db
def test_the_switch_is_off_again_after_a_failed_statement_inside_it():
    entry = audit_completed()
    with pytest.raises(DatabaseError), audit_maintenance():
        raw("UPDATE audit_auditentry SET no_such_column = 1 WHERE id = %s", [entry.pk])
    refused("UPDATE audit_auditentry SET reason = 'again' WHERE id = %s", [entry.pk])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_guard_migration_can_be_reversed_and_chains_older_rows_when_applied(settings):
    # A log from before the chain had a key: 0004 links older rows in without one, and a key
    # would make them follow keyed rows.
    settings.AUDIT_CHAIN_KEY = ""
    # Written as before correlation ids (0007) and apps (0008), whose reversals refuse chained
    # rows that have one.
    entry = audit_begun()
    raw("UPDATE audit_auditentry SET correlation_id = NULL, app = NULL WHERE id = %s", [entry.pk])
    entry = audit_finished(AuditEntry.objects.get(pk=entry.pk))
    # Begun now, completed below by a version that did not chain rows yet. Rows are written
    # and read with SQL while migrated back: the model has columns added since.
    older = audit_begun()
    try:
        call_command("migrate", "audit", "0003", verbosity=0)
        # Without the guard, a completed row can be edited (and here put back as it was).
        raw("UPDATE audit_auditentry SET reason = 'rewritten' WHERE id = %s", [entry.pk])
        with connection.cursor() as cursor:
            cursor.execute("SELECT reason FROM audit_auditentry WHERE id = %s", [entry.pk])
            assert cursor.fetchone() == ("rewritten",)
        raw("UPDATE audit_auditentry SET reason = 'spam' WHERE id = %s", [entry.pk])
        raw(
            "UPDATE audit_auditentry SET outcome = 'ok', completed_at = created_at WHERE id = %s",
            [older.pk],
        )
    finally:
        call_command("migrate", "audit", verbosity=0)
    refused("UPDATE audit_auditentry SET reason = 'again' WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.get(pk=older.pk).chain_seq == 2
    assert verify()[1].startswith("Chain intact: 2 rows checked.")


# Concurrent writers


@postgresql_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_writers_leave_one_straight_chain():
    threads, rows_each = 8, 15
    operator = User.objects.create_user("busy")
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(rows_each):
                entry = audit_begun(operator, account=f"shared{i % 3}", reason=f"writer {n}")
                audit_finished(entry, c2c_observed=n * 100 + i)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert failures == []
    total = threads * rows_each
    positions = sorted(AuditEntry.objects.values_list("chain_seq", flat=True))
    assert positions == list(range(1, total + 1))
    status, out, _ = verify()
    assert (status, out.splitlines()[0]) == (0, f"Chain intact: {total} rows checked.")
    assert sum(AuditHourlyCount.objects.values_list("count", flat=True)) == total
    # Whatever order they finished in, each account shows its newest row's observation.
    for state in AccountMuteState.objects.all():
        newest = AuditEntry.objects.filter(account=state.account).order_by("-id").first()
        assert (state.observed_entry_id, state.c2c_seconds) == (newest.pk, newest.c2c_observed)
