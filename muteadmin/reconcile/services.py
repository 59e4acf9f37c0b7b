"""Running a reconcile: ask Tencent again about the accounts that matter, record what differs.

Every lookup goes through the one door (mute_get_many: audited as the reconcile's own call, the
shared limiter) and keeps to RECONCILE_SHARE of the cap, so people's lookups still get through
at once. Accounts are taken a batch at a time; the run's row says how far it got.
"""

import itertools
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from muteadmin.bulk.call_threads import CallThreads
from muteadmin.mutes.services import mute_get_many
from muteadmin.reconcile.drift import (
    RECONCILE_OPERATOR,
    Drift,
    drift_record,
    expected_at,
    kinds_drifted,
)
from muteadmin.reconcile.hooks import drift_noticed
from muteadmin.reconcile.models import ReconcileRun
from muteadmin.reconcile.selectors import (
    changes_in_flight,
    expectations_read,
    reconcile_accounts,
)
from muteadmin.reconcile.settings import reconcile_share
from muteadmin.tencent.errors import (
    TencentConfigurationError,
    TencentRateLimited,
    TencentTransportError,
    TencentUpstreamError,
)
from muteadmin.upstream.registry import tim_apps

logger = logging.getLogger(__name__)

# Accounts looked up per batch (their audit rows begun together), and threads calling side by
# side: enough to use the share at a distant server's latency; the share's window paces them.
BATCH = 100
THREADS = 4
# A run still `running` this long after its last beat died with its process.
STALE_AFTER = timedelta(minutes=10)


# Failures that say Tencent cannot be reached or used now, not that one account is wrong.
_OUTAGES = (
    TencentTransportError,
    TencentRateLimited,
    TencentConfigurationError,
    TencentUpstreamError,
)


class ReconcileBusy(Exception):
    """Another reconcile is running; this one did not start."""


class ReconcileStopped(Exception):
    """Every lookup of a batch failed for a reason no other account escapes: the run stopped."""


@dataclass(frozen=True)
class BatchResult:
    checked: int
    failed: int
    drifts: list[Drift]
    # Why every lookup failed, when each failed for a reason no other account escapes.
    outage: str = ""


def reconcile_run(
    *,
    trigger: str,
    now: datetime | None = None,
    threads: int = THREADS,
    batch_size: int = BATCH,
    progress: Callable[[ReconcileRun], None] | None = None,
) -> ReconcileRun:
    """One reconcile of every configured app; returns its finished run.

    Raises ReconcileBusy when another run is alive. A run that fails is recorded as failed
    with why, and the error raised.
    """
    run = _run_start(trigger=trigger, now=now or timezone.now())
    pool = CallThreads(size=threads, name="reconcile") if threads > 1 else None
    try:
        work = [(app, reconcile_accounts(app=app, now=run.started_at)) for app in tim_apps()]
        run.total = sum(len(accounts) for _, accounts in work)
        run.save(update_fields=["total"])
        for app, accounts in work:
            for batch in itertools.batched(accounts, batch_size):
                result = reconcile_batch(
                    run=run, app=app, accounts=list(batch), executor=pool and pool.executor
                )
                _run_advance(run, result)
                if progress is not None:
                    progress(run)
                if result.outage:
                    # Tencent cannot be asked now: the next run tries again, sooner than this one
                    # would spend every lookup's retries.
                    raise ReconcileStopped(
                        f"Every lookup of a batch failed ({result.outage}); the run stopped."
                    )
    except ReconcileStopped as exc:
        _run_end(run, state=ReconcileRun.State.FAILED, error_info=str(exc))
        raise
    except Exception as exc:
        # Its words may hold anything (a URL, a query): the page says only where to look.
        said = f"A fault on muteadmin's side ({type(exc).__name__}); the log has the details."
        _run_end(run, state=ReconcileRun.State.FAILED, error_info=said)
        raise
    finally:
        if pool is not None:
            pool.close()
    _run_end(run, state=ReconcileRun.State.FINISHED)
    return run


def _run_start(*, trigger: str, now: datetime) -> ReconcileRun:
    running = ReconcileRun.objects.filter(state=ReconcileRun.State.RUNNING)
    running.filter(beat_at__lt=now - STALE_AFTER).update(
        state=ReconcileRun.State.INTERRUPTED, finished_at=now
    )
    if running.exists():
        raise ReconcileBusy("A reconcile is already running; wait for it to finish.")
    return ReconcileRun.objects.create(trigger=trigger, started_at=now, beat_at=now)


def _run_advance(run: ReconcileRun, result: BatchResult) -> None:
    run.checked += result.checked
    run.failed += result.failed
    run.differences += len(result.drifts)
    run.beat_at = timezone.now()
    run.save(update_fields=["checked", "failed", "differences", "beat_at"])


def _run_end(run: ReconcileRun, *, state: str, error_info: str = "") -> None:
    run.state = state
    run.finished_at = run.beat_at = timezone.now()
    run.error_info = error_info
    run.save(update_fields=["state", "finished_at", "beat_at", "error_info"])


def reconcile_batch(
    *, run: ReconcileRun, app: str, accounts: list[str], executor: Executor | None
) -> BatchResult:
    """Look the accounts up again and record a drift for each that differs from its expectation.

    An account never seen before has no expectation: its first look is not a drift. Nor is one
    changed here while the lookup ran (a change pending, or completed in between).
    """
    before = expectations_read(app=app, accounts=accounts)
    in_flight = changes_in_flight(app=app, accounts=accounts)
    calls = mute_get_many(
        accounts=accounts,
        operator=RECONCILE_OPERATOR,
        executor=executor,
        correlation_id=run.correlation_id,
        app=app,
        share=reconcile_share(),
    )
    after = expectations_read(app=app, accounts=accounts)
    in_flight |= changes_in_flight(app=app, accounts=accounts)
    checked = failed = 0
    drifts = []
    outages = [call.error for call in calls if isinstance(call.error, _OUTAGES)]
    for call in calls:
        if call.error is not None:
            failed += 1
            continue
        checked += 1
        state = before.get(call.account)
        changed_here = state is not None and (
            after[call.account]["last_change_entry_id"] != state["last_change_entry_id"]
        )
        if state is None or changed_here or call.account in in_flight:
            continue
        expected = expected_at(state, at=call.status.observed_at)
        kinds = kinds_drifted(expected, call.status)
        if kinds:
            drift = drift_record(
                app=app,
                status=call.status,
                expected=expected,
                kinds=kinds,
                state=state,
                query_entry_id=call.entry_id,
                run_id=run.pk,
                correlation_id=run.correlation_id,
            )
            drifts.append(drift)
            _announce(drift)
    outage = ""
    if calls and len(outages) == len(calls):
        outage = getattr(outages[0], "moderator_message", "") or str(outages[0])
    return BatchResult(checked=checked, failed=failed, drifts=drifts, outage=outage)


def _announce(drift: Drift) -> None:
    try:
        drift_noticed(drift=drift)
    except Exception:  # a notification's failure never stops the run; the row is recorded
        logger.exception("Announcing the drift of audit row %s failed.", drift.entry_id)
