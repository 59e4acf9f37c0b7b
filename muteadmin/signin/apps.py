from django.apps import AppConfig


class SignInConfig(AppConfig):
    """Signing in through django-allauth: throttling, audit rows, session limits, two-factor."""

    name = "muteadmin.signin"
    label = "signin"
    verbose_name = "Sign-in"

    def ready(self) -> None:
        from muteadmin.signin import (  # noqa: F401  (registers the checks; connects allauth's MFA signal)
            checks,
            receivers,
        )
