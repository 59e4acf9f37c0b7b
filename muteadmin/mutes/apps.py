from django.apps import AppConfig


class MutesConfig(AppConfig):
    name = "muteadmin.mutes"
    verbose_name = "Mutes"

    def ready(self) -> None:
        from muteadmin.mutes import checks  # noqa: F401  (registers the system checks)
