from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "muteadmin.audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from muteadmin.audit import checks  # noqa: F401  (registers the system checks)
        from muteadmin.periodic.registry import periodic_register

        post_migrate.connect(_sqlite_switches_remove, sender=self)
        periodic_register(name="audit_sweep_pending", every=SWEEP_EVERY_SECONDS, run=_sweep)
        # The chain's head written down at least this often, quiet hours included.
        minutes = settings.AUDIT_CHECKPOINT_EVERY_MINUTES
        if minutes < 1:
            raise ImproperlyConfigured("AUDIT_CHECKPOINT_EVERY_MINUTES must be at least 1.")
        periodic_register(name="audit_checkpoint", every=minutes * 60, run=_checkpoint)


# How often the worker looks for rows left pending (muteadmin/audit/sweeper.py).
SWEEP_EVERY_SECONDS = 60


def _sweep() -> list[int]:
    from muteadmin.audit.sweeper import audit_sweep_pending

    return audit_sweep_pending()


def _checkpoint() -> str:
    from muteadmin.audit.checkpoints import audit_checkpoint

    return audit_checkpoint()


def _sqlite_switches_remove(sender, using: str, **kwargs) -> None:
    """After every migrate on SQLite, no audit trigger asks a function a client could define.

    Migration 0009 rewrote the triggers of its time; this also covers one added by a migration
    written in the older style (with `NOT muteadmin_audit_maintenance()`) and applied after it.
    """
    from django.db import connections

    from muteadmin.audit.guard import sqlite_switches_remove
    from muteadmin.audit.models import AuditEntry

    connection = connections[using]
    if connection.vendor == "sqlite":
        sqlite_switches_remove(connection, AuditEntry._meta.db_table)
