from django.apps import AppConfig


class UpstreamConfig(AppConfig):
    """The Django-aware door to Tencent: clients per app, the shared rate limiter, checks."""

    name = "muteadmin.upstream"
    label = "upstream"
    verbose_name = "Upstream"

    def ready(self) -> None:
        from muteadmin.upstream import checks  # noqa: F401  (registers the system checks)
