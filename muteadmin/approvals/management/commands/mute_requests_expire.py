"""Expire the mute requests whose time is up, each with its audit row (run it periodically)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext, ngettext

from muteadmin.approvals.services import mute_requests_expire


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return gettext("Expire mute requests left undecided past MUTE_REQUEST_TTL_HOURS.")

    def handle(self, *args, **options) -> None:
        expired = mute_requests_expire()
        self.stdout.write(
            ngettext("%(count)s request expired.", "%(count)s requests expired.", expired)
            % {"count": expired}
        )
