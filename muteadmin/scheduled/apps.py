from django.apps import AppConfig

# How often the worker looks for scheduled changes whose time has come (muteadmin/periodic):
# with the tick's 30 s, each runs within a minute of its time.
RUN_EVERY_SECONDS = 30


class ScheduledConfig(AppConfig):
    name = "muteadmin.scheduled"
    verbose_name = "Scheduled changes"

    def ready(self) -> None:
        from muteadmin.periodic.registry import periodic_register

        periodic_register(name="scheduled_run_due", every=RUN_EVERY_SECONDS, run=_run_due)


def _run_due() -> int:
    from muteadmin.scheduled.services import scheduled_run_due

    return len(scheduled_run_due())
