"""The roles staff hold: the auth groups the migrations create. A person holds one of them here."""

from collections.abc import Iterable

from django.utils.translation import gettext_lazy

ROLES = ("Moderator", "Lead", "Auditor")
MANAGE_TEAM = "team.manage_team"


def role_names(group_names: Iterable[str]) -> list[str]:
    """The roles among these group names, in ROLES' order."""
    held = set(group_names)
    return [role for role in ROLES if role in held]


def role_with_article(role: str) -> str:
    """'a Lead', 'an Auditor': a role as a sentence names it."""
    if role in _WITH_ARTICLE:
        return str(_WITH_ARTICLE[role])
    return f"{'an' if role[:1] in 'AEIOU' else 'a'} {role}"


_WITH_ARTICLE = {
    "Moderator": gettext_lazy("a Moderator"),
    "Lead": gettext_lazy("a Lead"),
    "Auditor": gettext_lazy("an Auditor"),
}
