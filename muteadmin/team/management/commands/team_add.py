"""Add a person with a role from the command line (the first Lead of a new server) and print
their one-time set-password link."""

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from muteadmin.team.invitations import INVITATION_HOURS
from muteadmin.team.roles import ROLES, role_with_article
from muteadmin.team.services import TeamChangeRefused, team_member_add


class Command(BaseCommand):
    help = (
        "Add a person in a role (Moderator, Lead or Auditor) and print the link with which "
        f"they set their password (once, within {INVITATION_HOURS} hours). Audited."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where the dashboard is served, e.g. https://admin.example.com "
            "(default: http://127.0.0.1:8000, as `make run` serves it).",
        )

    def handle(self, *args, username: str, role: str, base_url: str, **options) -> None:
        try:
            user, token = team_member_add(operator=None, username=username, role=role)
        except TeamChangeRefused as refused:
            raise CommandError(str(refused)) from refused
        link = base_url.rstrip("/") + reverse("team:welcome", args=[token])
        self.stdout.write(
            f"Added {user.get_username()} as {role_with_article(role)}. Pass this link on to "
            f"them; it sets their password once, within {INVITATION_HOURS} hours:\n{link}"
        )
