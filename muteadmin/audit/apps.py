from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "muteadmin.audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from muteadmin.audit.maintenance import audit_maintenance_install

        # Before any connection opens: SQLite's guard triggers call a per-connection function.
        audit_maintenance_install()
