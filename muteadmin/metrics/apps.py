from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "muteadmin.metrics"
    verbose_name = "Metrics"
