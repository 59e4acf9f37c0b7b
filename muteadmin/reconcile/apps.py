from django.apps import AppConfig


class ReconcileConfig(AppConfig):
    """Checking with Tencent that the mutes muteadmin expects are the ones it has.

    The worker runs a reconcile every RECONCILE_EVERY_MINUTES (registered with the periodic
    jobs); `manage.py mute_reconcile` runs one now. Leads keep a watchlist at /watchlist/.
    """

    name = "muteadmin.reconcile"
    label = "reconcile"
    verbose_name = "Reconcile with Tencent"

    def ready(self) -> None:
        from django.core.exceptions import ImproperlyConfigured

        from muteadmin.periodic.registry import periodic_register
        from muteadmin.reconcile import checks  # noqa: F401  (registers the system checks)
        from muteadmin.reconcile.settings import reconcile_every_seconds

        try:
            every = reconcile_every_seconds()
        except ImproperlyConfigured:
            # The system check (muteadmin.E301) says what to correct; nothing runs until then.
            return
        periodic_register(name="mute_reconcile", every=every, run=_reconcile)


def _reconcile() -> object:
    from muteadmin.reconcile.services import reconcile_run

    return reconcile_run(trigger="worker")
