from django.apps import AppConfig

# How often the worker tells the team's chat of reminders that came due (muteadmin/periodic).
ANNOUNCE_EVERY_SECONDS = 60


class RemindersConfig(AppConfig):
    name = "muteadmin.reminders"
    verbose_name = "Review reminders"

    def ready(self) -> None:
        from muteadmin.periodic.registry import periodic_register

        periodic_register(
            name="reminders_announce_due", every=ANNOUNCE_EVERY_SECONDS, run=_announce
        )


def _announce() -> int:
    from muteadmin.reminders.services import reminders_announce_due

    return len(reminders_announce_due())
