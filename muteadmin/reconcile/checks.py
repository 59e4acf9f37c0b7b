"""System checks for the reconcile's settings: a process with a share or interval it cannot use
refuses to start, saying which setting to correct."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from muteadmin.reconcile.settings import reconcile_every_seconds, reconcile_share_fraction


@checks.register()
def check_reconcile_settings(app_configs, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    for read in (reconcile_every_seconds, reconcile_share_fraction):
        try:
            read()
        except ImproperlyConfigured as exc:
            errors.append(
                checks.Error(str(exc), hint=".env.example documents it.", id="muteadmin.E301")
            )
    return errors
