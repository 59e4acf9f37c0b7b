"""The roles staff hold: the auth groups the migrations create. A person holds one of them here."""

from collections.abc import Iterable

ROLES = ("Moderator", "Lead", "Auditor")
MANAGE_TEAM = "team.manage_team"


def role_names(group_names: Iterable[str]) -> list[str]:
    """The roles among these group names, in ROLES' order."""
    held = set(group_names)
    return [role for role in ROLES if role in held]


def role_with_article(role: str) -> str:
    """'a Lead', 'an Auditor': a role as a sentence names it."""
    return f"{'an' if role[:1] in 'AEIOU' else 'a'} {role}"
