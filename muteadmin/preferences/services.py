"""Reading and saving a user's preferences."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from muteadmin.preferences.models import Preference


@dataclass(frozen=True)
class Chosen:
    """What a user has chosen; blank means not chosen."""

    language: str = ""
    time_zone: str = ""
    csv_bom: bool = False


def preference_get(*, user: AbstractBaseUser) -> Chosen:
    """The user's saved choices (all blank when they never saved any), in one query.

    None at all when the user was read with them (settings.AUTH_USER_READ_WITH).
    """
    if hasattr(user, "read_with"):
        return Chosen(**user.read_with) if user.read_with else Chosen()
    row = (
        Preference.objects.filter(user_id=user.pk)
        .values_list("language", "time_zone", "csv_bom")
        .first()
    )
    return Chosen(*row) if row else Chosen()


def preference_set(*, user: AbstractBaseUser, **changes: str | bool) -> None:
    """Save the named choices (language, time_zone, csv_bom) for the user."""
    unknown = set(changes) - {"language", "time_zone", "csv_bom"}
    if unknown:
        raise TypeError(f"not a preference: {sorted(unknown)}")
    Preference.objects.update_or_create(user_id=user.pk, defaults=changes)
    if hasattr(user, "read_with"):
        del user.read_with  # read with the user before the change: read afresh from now on


def language_codes() -> frozenset[str]:
    """The languages pages are drawn in (settings.LANGUAGES)."""
    return frozenset(code for code, _name in settings.LANGUAGES)
