"""Where a drift the reconcile found is announced, once its audit row is committed.

drift_noticed is called once per drift, after its row is committed: the chat-robot
destinations that chose the `drift` event are told (muteadmin.robots).
"""

from muteadmin.reconcile.drift import Drift
from muteadmin.robots.events import notify_event
from muteadmin.robots.models import EVENT_DRIFT


def drift_noticed(*, drift: Drift) -> None:
    """A drift was recorded (audit row `drift.entry_id`): tell whoever should know."""
    notify_event(
        EVENT_DRIFT,
        account=drift.account,
        app=drift.app,
        entry_id=drift.entry_id,
        **{f"expected_{kind}": drift.expected.get(kind) for kind in drift.kinds},
        **{f"found_{kind}": drift.found.get(kind) for kind in drift.kinds},
    )
