"""Translations for words drawn many times a page: each message looked up once per language.

Django's gettext walks its catalogs on every call; the account page puts dozens of timeline
steps and durations into words, asking for the same few messages a hundred times or more.
These give the same text as django.utils.translation's functions of the same names.
"""

from functools import lru_cache

from django.utils import translation


@lru_cache(maxsize=4096)
def _translated(language: str, context: str, message: str) -> str:
    with translation.override(language):
        if context:
            return translation.pgettext(context, message)
        return translation.gettext(message)


def gettext(message: str) -> str:
    """`message` in the active language, as translation.gettext gives it."""
    return _translated(translation.get_language(), "", message)


def pgettext(context: str, message: str) -> str:
    """`message` in `context`, in the active language, as translation.pgettext gives it."""
    return _translated(translation.get_language(), context, message)
