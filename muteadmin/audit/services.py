"""Writing the audit log: a pending row before each upstream call, completed after it.

Completing a row (completion.py) chains it and brings the tables derived from the log up to date,
all in one transaction. `audit_call` and `audit_calls` wrap a call in both steps.
"""

import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from muteadmin.audit.completion import AuditCompletion, audit_complete_many
from muteadmin.audit.models import AuditEntry
from muteadmin.core.sql import insert_one
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
    # One row is one INSERT, which commits by itself (no BEGIN's round trip: every account
    # page writes one); bulk_create always runs in one.
    if len(entries) == 1:
        insert_one(entries[0])
        return entries
    with transaction.atomic():
        return AuditEntry.objects.bulk_create(entries)


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
