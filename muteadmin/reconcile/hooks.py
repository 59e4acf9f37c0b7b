"""Where a drift the reconcile found is announced, once its audit row is committed.

Notifications (chat robots, e-mail) hook in here: drift_noticed is called once per drift, after
its row is committed, and does nothing else yet.
"""

from muteadmin.reconcile.drift import Drift


def drift_noticed(*, drift: Drift) -> None:
    """A drift was recorded (audit row `drift.entry_id`): tell whoever should know."""
