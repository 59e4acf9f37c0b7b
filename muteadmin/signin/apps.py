from django.apps import AppConfig


class SignInConfig(AppConfig):
    """Signing in through django-allauth: throttling, audit rows, session limits, two-factor."""

    name = "muteadmin.signin"
    label = "signin"
    verbose_name = "Sign-in"
