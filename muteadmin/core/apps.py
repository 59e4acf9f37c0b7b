from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Helpers that import no app: CSV cells, keyset pagination, durations in words, health."""

    name = "muteadmin.core"
    label = "core"
    verbose_name = "Core"
