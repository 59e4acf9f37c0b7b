from django.apps import AppConfig

# How often the worker expires requests whose time is up (muteadmin/periodic).
EXPIRE_EVERY_SECONDS = 60


class ApprovalsConfig(AppConfig):
    name = "muteadmin.approvals"
    verbose_name = "Mute requests"

    def ready(self) -> None:
        from muteadmin.periodic.registry import periodic_register

        periodic_register(name="mute_requests_expire", every=EXPIRE_EVERY_SECONDS, run=_expire)


def _expire() -> int:
    from muteadmin.approvals.services import mute_requests_expire

    return mute_requests_expire()
