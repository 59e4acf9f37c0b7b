from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "muteadmin.audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from muteadmin.audit import checks  # noqa: F401  (registers the system checks)
