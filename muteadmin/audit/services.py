"""Writing the audit log: a pending row before each upstream call, completed after it.

Completing a row chains it (see chain.py) and brings the tables derived from the log up to date
(derived.py), all in one transaction. `audit_call` and `audit_calls` wrap a call in both steps.
"""

import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from muteadmin.audit.chain import (
    CHAIN_LOCK_KEY,
    GENESIS_HASH,
    HASHED_FIELDS,
    chain_head,
    chain_key,
    chain_link,
    chain_lock,
)
from muteadmin.audit.checkpoints import ChainHead, checkpoint_after_completion
from muteadmin.audit.derived import hourly_counts_add, mute_states_observe
from muteadmin.audit.models import AuditEntry
from muteadmin.audit.returning import complete_returning, returning_supported
from muteadmin.core.sql import update_each
from muteadmin.tencent.errors import TencentError
from muteadmin.upstream.registry import tim_app

# Bulk jobs' correlation ids are derived from their numbers, so every row of a job shares one.
_BULK_JOB_NAMESPACE = uuid.UUID("5f0c9e43-2b6d-4a51-9d0e-6a4c1c3b7f21")


def job_correlation_id(job_id: int) -> uuid.UUID:
    """The correlation id of every audit row a bulk job writes."""
    return uuid.uuid5(_BULK_JOB_NAMESPACE, f"bulk-job:{job_id}")


def audit_begin(*, account: str, **fields: Any) -> AuditEntry:
    """Record that a call is about to be made, committed before the call leaves.

    `fields` are audit_begin_many's: the operator, the action and what was asked.
    """
    (entry,) = audit_begin_many(accounts=[account], **fields)
    return entry


def audit_begin_many(
    *,
    operator: AbstractBaseUser | None,
    action: str,
    accounts: Sequence[str],
    c2c_requested: int | None = None,
    group_requested: int | None = None,
    reason: str = "",
    client_ip: str | None = None,
    details: Mapping[str, Any] | None = None,
    job_id: int | None = None,
    correlation_id: uuid.UUID | None = None,
    app: str | None = None,
    on_behalf_of: str | None = None,
    rule: str | None = None,
) -> list[AuditEntry]:
    """audit_begin for the same call to each of `accounts`: one row each, in one INSERT.

    The rows share `correlation_id`: by default a bulk job's (job_correlation_id), else a
    new one for this operation. `app` is the name of the Chat app called (or exported from),
    by default the default app's. `on_behalf_of` is the username of the person whose
    request the operator carries out (an approved mute request), None on other rows; `rule`
    the code of the policy rule the change is made under, None for none.
    """
    if correlation_id is None:
        correlation_id = job_correlation_id(job_id) if job_id is not None else uuid.uuid4()
    if app is None:
        app = tim_app().name
    entries = [
        AuditEntry(
            operator=operator if operator is not None and operator.is_authenticated else None,
            operator_username=operator.get_username() if operator is not None else "",
            action=action,
            account=account,
            c2c_requested=c2c_requested,
            group_requested=group_requested,
            reason=reason,
            client_ip=client_ip,
            details=dict(details or {}),
            job_id=job_id,
            correlation_id=correlation_id,
            app=app,
            on_behalf_of=on_behalf_of or None,
            rule=rule or None,
        )
        for account in accounts
    ]
    # Its own transaction: a process that dies during the calls still leaves these rows behind.
    # One row is one INSERT, which commits by itself (save() opens no transaction, and saves
    # the BEGIN's round trip); bulk_create always runs in one.
    if len(entries) == 1:
        entries[0].save(force_insert=True)
        return entries
    with transaction.atomic():
        return AuditEntry.objects.bulk_create(entries)


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


def audit_complete(*, entry: AuditEntry, **fields: Any) -> None:
    """Fill in what the call returned (`details` merged into the row's), chain it and count it.

    `fields` are AuditCompletion's. A row can be completed once only; completing it again
    changes nothing.
    """
    audit_complete_many([AuditCompletion(entry=entry, **fields)])


def audit_record(
    *,
    operator: AbstractBaseUser | None,
    action: str,
    outcome: str = AuditEntry.Outcome.OK,
    error_info: str = "",
    **fields: Any,
) -> AuditEntry:
    """A step made without calling Tencent (a mute request's, a limit change), written complete.

    `fields` are audit_begin_many's (`account` defaults to none). The row is begun and
    completed at once, chained like any other; inside the caller's transaction both commit
    with the change they record, or neither does. `outcome` and `error_info` say how it went
    (a refusal: error, and why).
    """
    fields.setdefault("account", "")
    with transaction.atomic():
        entry = audit_begin(operator=operator, action=action, **fields)
        audit_complete(
            entry=entry,
            outcome=outcome,
            latency_ms=None,
            request_random=None,
            error_info=error_info,
        )
    return entry


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
        # Hashed as read back, so each hash covers exactly what the database holds.
        read, (position, previous) = _fill_and_read(
            completions, now=now, flush_on_commit=not own_transaction
        )
        rows = [read[c.entry.pk] for c in completions if c.entry.pk in read]
        before, key = position, chain_key()
        for row in rows:
            position += 1
            row.update(outcome=by_id[row["id"]].outcome, chain_seq=position)
            row["chain_hash"] = previous = chain_link(previous=previous, fields=row, key=key)
        _pending_update(
            _SEAL_FIELDS, [(*(row[f] for f in _SEAL_FIELDS), row["id"]) for row in rows]
        )
        hourly_counts_add(rows)
        mute_states_observe(rows)
        if rows:
            head = ChainHead(last_id=rows[-1]["id"], rows=position, head_hash=previous)
            checkpoint_after_completion(
                before=before, head=head, using=transaction.get_connection().alias
            )
    for completion in completions:
        if completion.entry.pk in read:
            for name, value in read[completion.entry.pk].items():
                setattr(completion.entry, name, value)
        else:
            # Completed already: show what was recorded.
            completion.entry.refresh_from_db()


def _fill_and_read(
    completions: Sequence[AuditCompletion], *, now: datetime, flush_on_commit: bool
) -> tuple[dict[int, dict[str, Any]], tuple[int, str]]:
    """Write what the calls returned into their pending rows, under the chain lock.

    Returns the rows still pending, as read back after the write (HASHED_FIELDS by id), and
    the chain's head. The rows stay pending until their hashes are known.
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
        if row is None:
            return {}, (0, GENESIS_HASH)  # nothing to chain
        return {row["id"]: row}, chain_head()
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
    head = chain_head()
    return {row["id"]: row for row in pending.values(*HASHED_FIELDS)}, head


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


class AuditCall:
    """One audited call in progress: its pending row, and what the call returned once known.

    The body of audit_call or audit_calls records the result with `ok` or `failed`; latency is
    measured from when the row was begun, or from `start` for a call that waited its turn.
    """

    def __init__(self, entry: AuditEntry) -> None:
        self.entry = entry
        self.completion: AuditCompletion | None = None
        self._started = time.monotonic()

    def start(self) -> None:
        """The call leaves now: measure its latency from here."""
        self._started = time.monotonic()

    def ok(
        self,
        *,
        request_random: int | None,
        c2c_observed: int | None = None,
        group_observed: int | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """The call succeeded, and saw these values."""
        self.completion = AuditCompletion(
            entry=self.entry,
            outcome=AuditEntry.Outcome.OK,
            latency_ms=self._latency_ms(),
            request_random=request_random,
            c2c_observed=c2c_observed,
            group_observed=group_observed,
            details=details,
        )

    def failed(self, error: Exception) -> None:
        """The call failed: Tencent's answer (TencentError), or a fault on our side."""
        if isinstance(error, TencentError):
            fields = {
                "request_random": error.random,
                "error_code": error.error_code,
                "error_info": error.error_info,
            }
        else:
            # Closed all the same, so the row is not mistaken for a call still in flight.
            fields = {
                "request_random": None,
                "error_info": f"Internal error ({type(error).__name__}).",
            }
        self.completion = AuditCompletion(
            entry=self.entry,
            outcome=AuditEntry.Outcome.ERROR,
            latency_ms=self._latency_ms(),
            **fields,
        )

    def _latency_ms(self) -> int:
        return round((time.monotonic() - self._started) * 1000)


class NoOutcomeRecorded(Exception):
    """A call's body ended without saying how the call went."""


@contextmanager
def audit_calls(*, accounts: Sequence[str], **fields: Any) -> Iterator[list[AuditCall]]:
    """Audit the same call to each of `accounts`: begun before the body, completed after it.

    The pending rows are committed (one INSERT, audit_begin_many's `fields`) before the body
    runs; afterwards every row is completed in one transaction with what the body recorded.
    An exception from the body is recorded on each row it left open, then raised again; a
    crash (SystemExit, KeyboardInterrupt) leaves the rows pending, as a killed process would.
    """
    calls = [AuditCall(entry) for entry in audit_begin_many(accounts=accounts, **fields)]
    try:
        yield calls
    except Exception as exc:
        _complete(calls, default=exc)
        raise
    _complete(calls, default=NoOutcomeRecorded())


@contextmanager
def audit_call(*, account: str, **fields: Any) -> Iterator[AuditCall]:
    """audit_calls for one account: `with audit_call(...) as call:` call, then `call.ok(...)`."""
    with audit_calls(accounts=[account], **fields) as (call,):
        yield call


def _complete(calls: Sequence[AuditCall], *, default: Exception) -> None:
    for call in calls:
        if call.completion is None:
            call.failed(default)
    audit_complete_many([call.completion for call in calls])
