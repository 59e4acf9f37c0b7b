"""Expire the mute requests whose time is up, each with its audit row (run it periodically)."""

from django.core.management.base import BaseCommand

from muteadmin.approvals.services import mute_requests_expire


class Command(BaseCommand):
    help = "Expire mute requests left undecided past MUTE_REQUEST_TTL_HOURS."

    def handle(self, *args, **options) -> None:
        expired = mute_requests_expire()
        self.stdout.write(f"{expired} request{'' if expired == 1 else 's'} expired.")
