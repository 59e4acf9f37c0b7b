"""A job's calls to Tencent for the accounts a worker holds, and what each came to."""

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied

from muteadmin.bulk.leases import Claimed, Leases
from muteadmin.bulk.models import BulkJob
from muteadmin.bulk.outcomes import Outcome, outcome_failed
from muteadmin.bulk.rechecks import change_applied, change_may_have_left, change_recorded
from muteadmin.bulk.stale_guard import bulk_changed_since, bulk_skips_record
from muteadmin.mutes.services import MuteCall, mute_change_many, mute_get_many, notice_send
from muteadmin.notices.services import NoticeUnavailable, notice_render
from muteadmin.tencent.accounts import InvalidAccount
from muteadmin.tencent.errors import TencentError
from muteadmin.tencent.nospeaking import MuteStatus
from muteadmin.tencent.retry import reschedule_delay

logger = logging.getLogger(__name__)

# Failures that belong to one account; anything else is a fault on our side.
ACCOUNT_FAILURES = (TencentError, PermissionDenied, InvalidAccount)
AUTHOR_GONE = (
    "The job's author was deleted, so this account was not checked again; look it up to see "
    "whether the change went through."
)


@dataclass(frozen=True)
class Upstream:
    """The batch calls a run makes (muteadmin.mutes.services), each audited with the job's id."""

    get_many: Callable[..., list[MuteCall]] = mute_get_many
    change_many: Callable[..., list[MuteCall]] = mute_change_many
    notice: Callable[..., object] = notice_send


class JobCalls:
    """Calls in the job author's name, side by side on `executor` (else one by one).

    An account whose call failed with something a later try may not meet is given a time to be
    tried again after (`reschedule_delay`), unless `stopping()` says the job is being stopped.
    """

    def __init__(
        self,
        *,
        job: BulkJob,
        operator: AbstractBaseUser | None,
        upstream: Upstream,
        deadline: float,
        executor: Executor | None,
        leases: Leases,
        stopping: Callable[[], bool],
    ) -> None:
        self.job = job
        self.operator = operator
        self.upstream = upstream
        self.deadline = deadline
        self.executor = executor
        self.leases = leases
        self.stopping = stopping

    def send(self, items: list[Claimed], outcomes: list[tuple[Claimed, Outcome]]) -> None:
        """Call for the items side by side; each settled item is appended to `outcomes`.

        A fault on our side is raised once the others are appended; its item is handed back to
        be re-checked, since whether its call left is unknown.
        """
        items = self._unchanged(items, outcomes)
        if not items:
            return
        try:
            calls = self._calls([item.account for item in items])
        except PermissionDenied as exc:
            # The author may no longer do this: nothing was sent.
            outcomes.extend((item, Outcome(ok=False, error_info=str(exc))) for item in items)
            return
        except BaseException:
            self.leases.abandon(items)
            raise
        faults = []
        for item, call in zip(items, calls, strict=True):
            if call.error is not None and not isinstance(call.error, ACCOUNT_FAILURES):
                # Recorded on its audit row; the item is re-checked later.
                faults.append(call.error)
                self.leases.abandon([item])
                continue
            outcomes.append((item, self._settled(item, call)))
        self._notices(calls)
        if faults:
            raise faults[0]

    def _unchanged(
        self, items: list[Claimed], outcomes: list[tuple[Claimed, Outcome]]
    ) -> list[Claimed]:
        """The items to send: those of a job started later whose account changed since it was
        scheduled are settled as skipped (bulk/stale_guard.py) and left out."""
        changed = bulk_changed_since(job=self.job, accounts=[item.account for item in items])
        if not changed:
            return items
        sentences = bulk_skips_record(job=self.job, changed=list(changed.values()))
        for item in items:
            if item.account in changed:
                outcome = Outcome(ok=False, skipped=True, error_info=sentences[item.account])
                outcomes.append((item, outcome))
        return [item for item in items if item.account not in changed]

    def _notices(self, calls: list[MuteCall]) -> None:
        """The job's notice to each account whose change went through, through the limiter.

        A notice's failure is recorded on its own audit row and never touches the change.
        """
        job = self.job
        changed = [call for call in calls if call.change is not None and call.change.change]
        if not job.notice_language or not changed or self.operator is None:
            return
        try:
            text = notice_render(
                c2c_seconds=job.c2c_seconds,
                group_seconds=job.group_seconds,
                reason=job.reason,
                now=changed[0].change.change.observed_at,
                language=job.notice_language,
                rule_code=job.rule,
            )
        except NoticeUnavailable:
            return

        def send(account: str) -> None:
            try:
                self.upstream.notice(
                    account=account,
                    text=text,
                    language=job.notice_language,
                    operator=self.operator,
                    correlation_id=None,
                    job_id=job.pk,
                    app=job.app,
                    deadline=self.deadline,
                    rule=job.rule,
                )
            except Exception:
                logger.warning("Bulk job %s: the notice to an account failed", job.pk)

        accounts = [call.account for call in changed]
        if self.executor is None or len(accounts) < 2:
            for account in accounts:
                send(account)
        else:
            list(self.executor.map(send, accounts))

    def recheck(self, item: Claimed) -> Outcome:
        """Settle a call a dead worker may have made: a lookup is asked again, a change is
        confirmed from its audit row or by a lookup before it is sent (again)."""
        job = self.job
        if self.operator is None:
            return Outcome(ok=False, error_info=AUTHOR_GONE)
        if job.operation != BulkJob.Operation.LOOKUP:
            if entry := change_recorded(job=job, account=item.account):
                # Tencent accepted it and the audit row says so; only the item was not updated.
                return Outcome(
                    ok=True,
                    c2c_observed=entry["c2c_observed"],
                    group_observed=entry["group_observed"],
                    audit_entry_id=entry["id"],
                )
            if change_may_have_left(job=job, account=item.account):
                try:
                    status = change_applied(
                        job=job,
                        account=item.account,
                        claimed_at=item.claimed_at,
                        lookup=self._lookup,
                    )
                except ACCOUNT_FAILURES as exc:
                    return self._failure(item, exc)
                if status is not None:
                    return Outcome(
                        ok=True,
                        c2c_observed=status.c2c_seconds,
                        group_observed=status.group_seconds,
                    )
        try:
            (call,) = self._calls([item.account])
        except PermissionDenied as exc:
            return Outcome(ok=False, error_info=str(exc))
        return self._settled(item, call)

    def _calls(self, accounts: list[str]) -> list[MuteCall]:
        job = self.job
        common = {
            "accounts": accounts,
            "operator": self.operator,
            "deadline": self.deadline,
            "job_id": job.pk,
            "executor": self.executor,
            "app": job.app,
        }
        if job.operation == BulkJob.Operation.LOOKUP:
            return self.upstream.get_many(**common)
        return self.upstream.change_many(
            **common,
            reason=job.reason,
            rule=job.rule or None,
            c2c_seconds=job.c2c_seconds,
            group_seconds=job.group_seconds,
        )

    def _lookup(self, account: str) -> MuteStatus:
        (call,) = self.upstream.get_many(
            accounts=[account],
            operator=self.operator,
            deadline=self.deadline,
            job_id=self.job.pk,
            app=self.job.app,
        )
        if call.error is not None:
            raise call.error
        return call.status

    def _settled(self, item: Claimed, call: MuteCall) -> Outcome:
        """The outcome of one account's call; a fault on our side is raised."""
        if call.error is not None:
            if not isinstance(call.error, ACCOUNT_FAILURES):
                raise call.error
            return self._failure(item, call.error, audit_entry_id=call.entry_id)
        if call.status is not None:
            observed = (call.status.c2c_seconds, call.status.group_seconds)
        else:
            observed = (call.change.c2c_after, call.change.group_after)
        return Outcome(
            ok=True,
            c2c_observed=observed[0],
            group_observed=observed[1],
            audit_entry_id=call.entry_id,
        )

    def _failure(
        self, item: Claimed, exc: Exception, *, audit_entry_id: int | None = None
    ) -> Outcome:
        """A failed account, put back for later if a later try may pass."""
        retry_after = None
        if not self.stopping():
            retry_after = reschedule_delay(exc, rescheduled=item.rescheduled)
        return outcome_failed(exc, audit_entry_id=audit_entry_id, retry_after=retry_after)
