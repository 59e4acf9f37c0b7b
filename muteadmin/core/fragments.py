"""The Jinja2 environment for page fragments drawn many times a request (settings.TEMPLATES).

Every value a fragment writes is escaped exactly as Django's templates escape it, so a page
reads the same whichever engine drew a part of it: Jinja2's own autoescaping writes quotes
differently (&#34; and &#39; for Django's &quot; and &#x27;).
"""

import html
from typing import Any

import jinja2
from django.template import engines
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from muteadmin.core import translations


def escaped(value: Any) -> str:
    """`value` as Django's autoescaping writes it; markup (anything with __html__) as it is."""
    if hasattr(value, "__html__"):
        return value.__html__()
    # What django.utils.html.escape does, without the lazy-string wrapper that costs more.
    return html.escape(str(value))


def environment(**options: Any) -> jinja2.Environment:
    """A Jinja2 environment whose every {{ value }} is escaped by `escaped`, translated by Django.

    {% trans %} and _() read Django's catalogs in the request's language; a translated
    sentence is escaped like any other value, so it holds no markup.
    """
    # Escaping is done by `finalize` on every expression, so Jinja2's own is switched off.
    options["autoescape"] = False
    options["extensions"] = [*options.get("extensions", ()), "jinja2.ext.i18n"]
    env = jinja2.Environment(finalize=escaped, **options)  # noqa: S701 - finalize escapes
    env.install_gettext_callables(  # type: ignore[attr-defined] - added by the i18n extension
        gettext=translations.gettext,
        ngettext=translation.ngettext,
        pgettext=translations.pgettext,
        npgettext=translation.npgettext,
        newstyle=True,
    )
    return env


def fragment(name: str, **context: Any) -> SafeString:
    """The *.jinja fragment `name` drawn by the fragments engine (settings.TEMPLATES)."""
    # The engine escapes every value it writes: its output is markup as it is.
    return mark_safe(engines["fragments"].get_template(name).render(context))  # noqa: S308
