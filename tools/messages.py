"""The translation catalogs: every message in the code and templates, without GNU gettext.

    .venv/bin/python -m tools.messages       # update locale/*/django.po, then compile each .mo

Messages are read with Babel: Python by its own extractor, Django templates after Django's
`templatize` turns them into Python, the *.jinja fragments by Jinja2's extractor. The .po keeps
every translation already written, gains each new message untranslated and loses the ones no
longer used; the .mo is compiled from it (committed, so a fresh clone needs no msgfmt).
Development only: Babel is pinned in requirements-dev.txt.
"""

import io
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ("zh_Hans",)
KEYWORDS = DEFAULT_KEYWORDS | {
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext_lazy": (1, 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
HEADER = "# muteadmin's messages in Simplified Chinese; update with `python -m tools.messages`."
# What a message's place is recorded as: its file, relative to the repository.
Found = tuple[str, str | tuple[str, ...], str | None]


def _python_files() -> Iterator[Path]:
    for path in sorted((ROOT / "muteadmin").rglob("*.py")):
        # Migrations repeat the models' labels, which are read from the models themselves.
        if "migrations" not in path.parts:
            yield path


def _from_python(path: Path) -> Iterator[Found]:
    with path.open("rb") as source:
        for _line, message, _comments, context in extract("python", source, keywords=KEYWORDS):
            yield path.relative_to(ROOT).as_posix(), message, context


def _from_template(path: Path) -> Iterator[Found]:
    from django.utils.translation.template import templatize

    python = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    # The template's own indentation is kept, which Python's tokenizer rejects; every message
    # is written on one line, so dropping it loses none.
    python = "\n".join(line.lstrip() for line in python.splitlines())
    source = io.BytesIO(python.encode("utf-8"))
    for _line, message, _comments, context in extract("python", source, keywords=KEYWORDS):
        yield path.relative_to(ROOT).as_posix(), message, context


def _from_jinja(path: Path) -> Iterator[Found]:
    with path.open("rb") as source:
        found = extract(
            "jinja2.ext:babel_extract",
            source,
            keywords=KEYWORDS,
            options={"extensions": "jinja2.ext.i18n"},
        )
        for _line, message, _comments, context in found:
            yield path.relative_to(ROOT).as_posix(), message, context


def messages() -> Iterator[Found]:
    """Every message the code and templates ask to be translated, with the file it is in."""
    for path in _python_files():
        yield from _from_python(path)
    for path in sorted((ROOT / "templates").rglob("*.html")):
        yield from _from_template(path)
    for path in sorted((ROOT / "templates").rglob("*.jinja")):
        yield from _from_jinja(path)


def catalog_path(locale: str, suffix: str) -> Path:
    return ROOT / "locale" / locale / "LC_MESSAGES" / f"django.{suffix}"


def read_catalog(locale: str) -> Catalog:
    """The locale's .po as it is on disk."""
    with catalog_path(locale, "po").open("rb") as po:
        return read_po(po, locale=locale)


def compiled(catalog: Catalog) -> bytes:
    """The .mo Django reads for `catalog` (fuzzy and untranslated messages left out)."""
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def update(locale: str) -> Catalog:
    """The locale's .po with every message now used, keeping the translations it has."""
    path = catalog_path(locale, "po")
    old = read_catalog(locale) if path.exists() else Catalog(locale=locale)
    new = Catalog(
        locale=locale,
        project="muteadmin",
        version="1",
        header_comment=HEADER,
        # Kept from the .po, so updating it changes only the messages.
        creation_date=old.creation_date,
        revision_date=old.creation_date,
        last_translator="muteadmin",
        language_team="muteadmin",
        fuzzy=False,
    )
    plurals = new.num_plurals
    for where, message, context in messages():
        key = message[0] if isinstance(message, tuple) else message
        if not key:
            continue
        kept = old.get(key, context)
        current = new.get(key, context)
        if current is not None:
            current.locations.append((where, None))
            continue
        string = kept.string if kept is not None else ""
        if isinstance(message, tuple):
            forms = string if isinstance(string, tuple) else (string,)
            string = tuple(forms[:plurals]) + ("",) * (plurals - len(forms))
        new.add(message, string, locations=[(where, None)], context=context)
    return new


def main() -> None:
    import django

    django.setup()
    for locale in LOCALES:
        catalog = update(locale)
        path = catalog_path(locale, "po")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as po:
            write_po(po, catalog, width=100, sort_output=True, include_lineno=False)
        catalog_path(locale, "mo").write_bytes(compiled(read_catalog(locale)))
        missing = sum(1 for message in catalog if message.id and not _translated(message))
        print(f"{path.relative_to(ROOT)}: {len(catalog)} messages, {missing} untranslated")


def _translated(message: object) -> bool:
    string = message.string
    return all(string) if isinstance(string, tuple) else bool(string)


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muteadmin.settings")
    os.environ.setdefault("DEBUG", "true")
    main()
