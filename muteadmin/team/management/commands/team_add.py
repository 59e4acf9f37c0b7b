"""Add a person with a role from the command line (the first Lead of a new server) and print
their one-time set-password link."""

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils.translation import gettext

from muteadmin.team.invitations import INVITATION_HOURS
from muteadmin.team.roles import ROLES, role_with_article
from muteadmin.team.services import TeamChangeRefused, team_member_add


def _help() -> str:
    return gettext(
        "Add a person in a role (Moderator, Lead or Auditor) and print the link with which "
        "they set their password (once, within %(hours)s hours). Audited."
    ) % {"hours": INVITATION_HOURS}


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return _help()

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help=gettext(
                "Where the dashboard is served, e.g. https://admin.example.com "
                "(default: http://127.0.0.1:8000, as `make run` serves it)."
            ),
        )

    def handle(self, *args, username: str, role: str, base_url: str, **options) -> None:
        try:
            user, token = team_member_add(operator=None, username=username, role=role)
        except TeamChangeRefused as refused:
            raise CommandError(str(refused)) from refused
        link = base_url.rstrip("/") + reverse("team:welcome", args=[token])
        self.stdout.write(
            gettext(
                "Added %(name)s as %(role)s. Pass this link on to them; it sets their password "
                "once, within %(hours)s hours:"
            )
            % {
                "name": user.get_username(),
                "role": role_with_article(role),
                "hours": INVITATION_HOURS,
            }
            + f"\n{link}"
        )
