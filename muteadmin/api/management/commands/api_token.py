"""API tokens from the command line, for a server's first setup and scripts: create (the token
is printed once), list, revoke. Audited like the team page, as the server's operator."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from muteadmin.api.tokens import (
    DEFAULT_DAYS,
    SCOPES,
    TokenChangeRefused,
    api_token_create,
    api_token_revoke,
    api_tokens,
)
from muteadmin.team.roles import ROLES


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else gettext("never")


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return gettext("Create, list or revoke API tokens (/api/v1/). A new token is shown once.")

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help=gettext("Create a token and print it."))
        create.add_argument("--name", required=True)
        create.add_argument(
            "--scopes",
            required=True,
            help=gettext("Comma-separated, of: %(scopes)s.") % {"scopes": ", ".join(SCOPES)},
        )
        create.add_argument("--role", required=True, choices=ROLES)
        create.add_argument("--days", type=int, default=DEFAULT_DAYS)
        actions.add_parser("list", help=gettext("List every token, never its secret."))
        revoke = actions.add_parser("revoke", help=gettext("Revoke a token at once."))
        revoke.add_argument("name")

    def handle(self, *args, action: str, **options) -> None:
        try:
            getattr(self, f"_{action}")(**options)
        except TokenChangeRefused as refused:
            raise CommandError(str(refused)) from refused

    def _create(self, *, name: str, scopes: str, role: str, days: int, **options) -> None:
        wanted = [scope.strip() for scope in scopes.split(",") if scope.strip()]
        token, secret = api_token_create(
            name=name, scopes=wanted, role=role, days=days, operator=None
        )
        self.stderr.write(
            gettext(
                "Created token %(name)s (%(scopes)s; acts as %(role)s; expires %(expires)s). "
                "It is shown once; keep it secret:"
            )
            % {
                "name": token.name,
                "scopes": ", ".join(token.scopes),
                "role": role,
                "expires": _when(token.expires_at),
            }
        )
        self.stdout.write(secret)

    def _list(self, **options) -> None:
        for token in api_tokens():
            state = (
                gettext("revoked")
                if token.revoked_at
                else gettext("expires %(when)s") % {"when": _when(token.expires_at)}
            )
            self.stdout.write(
                f"{token.name}\t{','.join(token.scopes)}\t{token.role.name}\t{state}\t"
                + gettext("last used %(when)s") % {"when": _when(token.last_used_at)}
            )

    def _revoke(self, *, name: str, **options) -> None:
        token = api_token_revoke(name=name, operator=None)
        self.stdout.write(
            gettext("Revoked token %(name)s; its next request is refused.") % {"name": token.name}
        )
