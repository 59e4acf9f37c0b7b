"""Completing audit rows: what the calls returned written in, the rows chained, the derived
tables brought up to date, all in one transaction (services.audit_calls calls it).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from muteadmin.audit.chain import (
    CHAIN_LOCK_KEY,
    HASHED_FIELDS,
    chain_head_of,
    chain_head_statement,
    chain_key,
    chain_link,
    chain_lock,
)
from muteadmin.audit.checkpoints import ChainHead, checkpoint_after_completion
from muteadmin.audit.derived import DerivedWrites
from muteadmin.audit.models import AuditEntry
from muteadmin.audit.returning import complete_returning, returning_supported
from muteadmin.core.sql import statements_run, update_each, update_statements


@dataclass(frozen=True)
class AuditCompletion:
    """What one call returned, for audit_complete_many; `details` is merged into the row's."""

    entry: AuditEntry
    outcome: str
    latency_ms: int | None
    request_random: int | None
    c2c_observed: int | None = None
    group_observed: int | None = None
    error_code: int | None = None
    error_info: str = ""
    details: Mapping[str, Any] | None = None


# Filled in by audit_complete_many while a row is still pending (the guard allows that).
_COMPLETION_FIELDS = (
    "latency_ms",
    "request_random",
    "c2c_observed",
    "group_observed",
    "error_code",
    "error_info",
    "completed_at",
)
_SEAL_FIELDS = ("outcome", "chain_seq", "chain_hash")


def audit_complete_many(completions: Sequence[AuditCompletion]) -> None:
    """audit_complete for several rows at once: one transaction, chained in the order given.

    Rows completed already (elsewhere, or by an earlier call) are left as recorded and their
    entries refreshed from the database.
    """
    if not completions:
        return
    now = timezone.now()
    by_id = {completion.entry.pk: completion for completion in completions}
    if len(by_id) != len(completions):
        raise ValueError("Each audit row can be completed once.")
    own_transaction = not transaction.get_connection().in_atomic_block
    with transaction.atomic():
        using = transaction.get_connection().alias
        # Hashed as read back, so each hash covers exactly what the database holds.
        read = _fill_and_read(completions, now=now, flush_on_commit=not own_transaction)
        rows = [read[c.entry.pk] for c in completions if c.entry.pk in read]
        if rows:
            _seal(rows, by_id=by_id, using=using)
    for completion in completions:
        if completion.entry.pk in read:
            for name, value in read[completion.entry.pk].items():
                setattr(completion.entry, name, value)
        else:
            # Completed already: show what was recorded.
            completion.entry.refresh_from_db()


def _seal(
    rows: Sequence[dict[str, Any]], *, by_id: Mapping[int, AuditCompletion], using: str
) -> None:
    """Chain the filled rows and bring the derived tables up to date, under the chain lock.

    Two round trips on PostgreSQL (statements_run): the chain's head with the stored states of
    the rows' accounts, then the seal with the counts' and states' UPDATEs.
    """
    for row in rows:
        row["outcome"] = by_id[row["id"]].outcome
    derived = DerivedWrites(rows, using=using)
    head, *stored = statements_run(
        [chain_head_statement(using=using), *derived.reads()], using=using
    )
    position, previous = chain_head_of(head)
    before, key = position, chain_key()
    for row in rows:
        position += 1
        row["chain_seq"] = position
        row["chain_hash"] = previous = chain_link(previous=previous, fields=row, key=key)
    seal = update_statements(
        AuditEntry,
        _SEAL_FIELDS,
        [(*(row[f] for f in _SEAL_FIELDS), row["id"]) for row in rows],
        where={"outcome": AuditEntry.Outcome.PENDING},
        using=using,
    )
    written = statements_run([*seal, *derived.writes(stored)], using=using)
    derived.finish(written[len(seal) :])
    head_after = ChainHead(last_id=rows[-1]["id"], rows=position, head_hash=previous)
    checkpoint_after_completion(before=before, head=head_after, using=using)


def _fill_and_read(
    completions: Sequence[AuditCompletion], *, now: datetime, flush_on_commit: bool
) -> dict[int, dict[str, Any]]:
    """Write what the calls returned into their pending rows, then take the chain lock.

    Returns the rows still pending, as read back after the write (HASHED_FIELDS by id). The
    rows stay pending until their hashes are known.
    """
    # Writing first takes SQLite's write lock (and these rows' locks on PostgreSQL, always
    # before the chain lock) before the chain's head is read.
    database = transaction.get_connection().alias
    if len(completions) == 1 and not completions[0].details and returning_supported(using=database):
        (completion,) = completions
        values = {name: getattr(completion, name) for name in _COMPLETION_FIELDS[:-1]}
        row = complete_returning(
            entry_id=completion.entry.pk,
            values=values,
            completed_at=now,
            using=database,
            then_lock=CHAIN_LOCK_KEY,
            flush_on_commit=flush_on_commit,
        )
        return {} if row is None else {row["id"]: row}
    _pending_update(
        _COMPLETION_FIELDS,
        [
            (*(getattr(c, name) for name in _COMPLETION_FIELDS[:-1]), now, c.entry.pk)
            for c in completions
        ],
    )
    for completion in completions:
        if completion.details:
            _details_merge(completion.entry.pk, completion.details)
    _chain_lock(flush_on_commit=flush_on_commit)
    ids = [completion.entry.pk for completion in completions]
    pending = AuditEntry.objects.filter(pk__in=ids, outcome=AuditEntry.Outcome.PENDING)
    return {row["id"]: row for row in pending.values(*HASHED_FIELDS)}


def _chain_lock(*, flush_on_commit: bool) -> None:
    """chain_lock(); on PostgreSQL, unless `flush_on_commit`, a COMMIT that does not wait for disk.

    Not waiting saves an fsync (about a millisecond) on every completion. A crash can then lose
    the completions of its last fraction of a second, and nothing else: their rows stay pending,
    as a crash during the call leaves them, and the chain stays whole, because what is lost is
    always the newest part of the WAL (a durable commit flushes everything before it). The
    pending row itself (audit_begin_many) is committed durably before the call leaves.
    """
    connection = transaction.get_connection()
    if flush_on_commit or connection.vendor != "postgresql":
        chain_lock()
        return
    # chain_lock's statement, and the setting for this transaction only, in one round trip.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s), set_config('synchronous_commit', 'off', true)",
            [CHAIN_LOCK_KEY],
        )


def _pending_update(fields: Sequence[str], rows: Sequence[tuple]) -> None:
    """Set `fields` of pending rows from (*values, id) tuples; completed rows are left alone.

    The WHERE says so, and the database's guard would refuse to change a completed row anyway.
    """
    update_each(AuditEntry, fields, rows, where={"outcome": AuditEntry.Outcome.PENDING})


def _details_merge(entry_id: int, details: Mapping[str, Any]) -> None:
    pending = AuditEntry.objects.filter(pk=entry_id, outcome=AuditEntry.Outcome.PENDING)
    stored = pending.values_list("details", flat=True).first()
    if stored is None:
        return
    merged = {**stored, **details} if isinstance(stored, dict) else dict(details)
    pending.update(details=merged)
