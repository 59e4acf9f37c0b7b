"""Create (or reset) the demo login that `make run` prints."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.utils.translation import gettext

DEMO_USERNAME = "demo"
# Only ever used while DEBUG is on, on a developer's own machine.
DEMO_PASSWORD = "muteadmin-demo"  # noqa: S105


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return gettext("Create or reset the 'demo' user in the Lead group and print its login.")

    def handle(self, *args, **options) -> None:
        password = DEMO_PASSWORD if settings.DEBUG else secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
        user.set_password(password)
        user.is_staff = True
        user.save()
        user.groups.set([Group.objects.get(name="Lead")])
        self.stdout.write(
            gettext("Demo login: %(username)s / %(password)s")
            % {"username": DEMO_USERNAME, "password": password}
        )
        required = "Lead" in settings.MFA_REQUIRED_GROUPS
        if required:
            sentence = gettext(
                "Two-factor sign-in: required for Leads, asked for at first sign-in; set it up "
                "with an authenticator app at /accounts/2fa/ once signed in (Two-factor sign-in, "
                "in the top bar)."
            )
        else:
            sentence = gettext(
                "Two-factor sign-in: optional; set it up with an authenticator app at "
                "/accounts/2fa/ once signed in (Two-factor sign-in, in the top bar)."
            )
        self.stdout.write(sentence)
