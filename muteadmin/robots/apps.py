from django.apps import AppConfig

# How often the worker looks for destinations failing for a day (and deliveries whose worker
# died), and for a saturated limiter.
PAUSE_EVERY_SECONDS = 60
LIMITER_WATCH_EVERY_SECONDS = 30


class RobotsConfig(AppConfig):
    name = "muteadmin.robots"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from muteadmin.periodic.registry import periodic_register

        periodic_register(name="robots_pause_failing", every=PAUSE_EVERY_SECONDS, run=_pause)
        periodic_register(name="robots_recover", every=PAUSE_EVERY_SECONDS, run=_recover)
        periodic_register(
            name="robots_limiter_watch", every=LIMITER_WATCH_EVERY_SECONDS, run=_limiter_watch
        )


def _pause() -> list[int]:
    from muteadmin.robots.pausing import destinations_pause_failing

    return destinations_pause_failing()


def _recover() -> list[int]:
    from muteadmin.robots.recovery import deliveries_recover

    return deliveries_recover()


def _limiter_watch() -> list[str]:
    from muteadmin.robots.watch import limiter_saturation_notify

    return limiter_saturation_notify()
