from django.apps import AppConfig


class UpstreamConfig(AppConfig):
    """The Django-aware door to Tencent: clients per app, the shared rate limiter, checks."""

    name = "muteadmin.upstream"
    label = "upstream"
    verbose_name = "Upstream"

    def ready(self) -> None:
        from django.utils.translation import gettext

        from muteadmin.tencent.accounts import InvalidAccount
        from muteadmin.tencent.errors import TencentError
        from muteadmin.upstream import checks  # noqa: F401  (registers the system checks)

        # The client's sentences (muteadmin/tencent/errors.py, accounts.py) in the reader's
        # language.
        TencentError.translate = staticmethod(gettext)
        InvalidAccount.translate = staticmethod(gettext)
