"""The reconcile's share of the cap, measured where Tencent would count it: at a receiver.

Its lookups keep to RECONCILE_SHARE of the cap in every one-second window, and a person's
lookups made meanwhile go through at once, within the rest of the cap.
"""

import threading
import time
from contextlib import contextmanager

import pytest
from django.db import connections

from bench.bulk_bench import max_window
from bench.ratelimit_bench import receiver_in_process
from muteadmin.audit.models import AuditEntry
from muteadmin.mutes.services import mute_get
from muteadmin.reconcile.models import WatchedAccount
from muteadmin.reconcile.services import reconcile_run

CAP = 20
SHARE = "25%"
SHARE_LIMIT = 5  # 25% of 20 calls a second
LATENCY = 0.02
WATCHED = 30  # six seconds of the share
PERSON_LOOKUPS = 8
PERSON_EVERY = 0.4
# A lookup that waited for a slot would wait up to a second; one that did not takes far less.
PROMPT = 0.5
# The share is counted in windows this much under a second: the limiter spaces bursts of the
# share 1.025 s apart (WINDOW_MS + SEND_MARGIN_MS), and on a loaded two-core machine the receiver's
# own process can stamp an arrival some tens of milliseconds late, which no caller can prevent.
RECEIVER_SLACK = 0.05


@pytest.fixture
def tencent(settings, tmp_path, monkeypatch):
    """Make Tencent a local HTTPS server recording arrivals, in a process of its own so that this
    one's threads never delay its clock; its cap is CAP calls a second, and so is our limit.

    Use as `with tencent() as arrivals:`; the arrivals are filled in when the block ends.
    """
    # requests prefers the environment's bundle to the session's own `verify`.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "cert.pem"))

    @contextmanager
    def serving():
        with receiver_in_process(cap=CAP, latency=LATENCY, tls_dir=tmp_path) as (url, arrivals):
            settings.TIM_SDKAPPID = 1400000001
            settings.TIM_SECRET_KEY = (
                "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"
            )
            settings.TIM_API_BASE_URL = url
            settings.TIM_RATE_LIMIT = CAP
            settings.RECONCILE_SHARE = SHARE
            yield arrivals

    return serving


def watch(count: int = WATCHED) -> None:
    WatchedAccount.objects.bulk_create(
        WatchedAccount(app="default", account=f"watched{number:03}", added_by="lead")
        for number in range(count)
    )


def busiest(stamps: list[float]) -> int:
    """The most of `stamps` in any window of a second less the receiver's slack."""
    return max_window(stamps, window=1.0 - RECEIVER_SLACK)


def stamps_of(arrivals, prefix: str) -> list[float]:
    return sorted(
        stamp
        for stamp, account in zip(arrivals.stamps, arrivals.accounts, strict=True)
        if account.startswith(prefix)
    )


@pytest.mark.django_db
def test_the_reconcile_alone_keeps_to_its_share_of_the_cap(tencent):
    watch()

    with tencent() as receiver:
        run = reconcile_run(trigger="command")

    failed = AuditEntry.objects.filter(outcome="error").values_list("account", "error_info")
    assert list(failed) == []
    reconcile = stamps_of(receiver, "watched")
    rate = (len(reconcile) - 1) / (reconcile[-1] - reconcile[0])
    print(
        f"\nreconcile alone: busiest second {max_window(reconcile)} "
        f"({busiest(reconcile)} less the slack), {rate:.1f}/s"
    )
    assert run.checked == WATCHED and len(reconcile) == WATCHED
    assert busiest(reconcile) <= SHARE_LIMIT
    # It uses its share rather than trickling.
    assert rate >= 0.7 * SHARE_LIMIT
    assert receiver.refused == 0


# Transactional: the reconcile runs in a thread of its own. A lookup needs no role, so no
# serialized rollback is needed to keep them.
@pytest.mark.django_db(transaction=True)
def test_a_person_looks_up_accounts_promptly_during_a_reconcile(tencent, django_user_model):
    moderator = django_user_model.objects.create_user(username="mod")
    watch()
    runs = []

    def reconcile() -> None:
        try:
            # One batch: its rows are written before and after its calls, never beside the
            # person's (SQLite's in-memory test database locks whole tables between threads).
            runs.append(reconcile_run(trigger="command", batch_size=WATCHED))
        finally:
            connections.close_all()

    with tencent() as receiver:
        background = threading.Thread(target=reconcile)
        background.start()
        time.sleep(1.0)  # the reconcile is under way
        waits = []
        for number in range(PERSON_LOOKUPS):
            started = time.monotonic()
            mute_get(account=f"person{number}", operator=moderator)
            waits.append(time.monotonic() - started)
            time.sleep(PERSON_EVERY)
        during = background.is_alive()
        background.join(timeout=60)

    reconcile_stamps = stamps_of(receiver, "watched")
    person_stamps = stamps_of(receiver, "person")
    print(
        f"\nreconcile busiest second {max_window(reconcile_stamps)}, all calls "
        f"{max_window(sorted(receiver.stamps))}, person's slowest lookup {max(waits):.3f} s"
    )
    failed = AuditEntry.objects.filter(outcome="error").values_list("account", "error_info")
    assert list(failed) == []
    assert during, "the person's lookups finished after the reconcile"
    assert runs[0].checked == WATCHED
    assert person_stamps[0] < reconcile_stamps[-1]
    assert busiest(reconcile_stamps) <= SHARE_LIMIT
    assert max_window(sorted(receiver.stamps)) <= CAP
    assert max(waits) < PROMPT
    assert receiver.refused == 0
    assert AuditEntry.objects.filter(operator_username="mod", outcome="ok").count() == (
        PERSON_LOOKUPS
    )
