from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "muteadmin.reports"
    verbose_name = "Reports"
