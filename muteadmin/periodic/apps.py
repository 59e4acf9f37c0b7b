from django.apps import AppConfig


class PeriodicConfig(AppConfig):
    """Work the worker repeats on a timer: a registry, and one self-re-queuing task running it.

    The tick is started by every `manage.py db_worker` (this app's) and `manage.py periodic_start`.
    """

    name = "muteadmin.periodic"
    label = "periodic"
    verbose_name = "Periodic work"
