from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "muteadmin.audit"
    verbose_name = "Audit log"
