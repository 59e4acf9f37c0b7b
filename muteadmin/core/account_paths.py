"""An account's ID as one segment of a URL path, and the account pages' URLs built from it.

A UserID may hold any printable ASCII: `/`, `%`, `?`, `#`, `\\`, or be `.` or `..`. Put into a
path as it is, a browser would remove or resolve some of those (`..` climbs a level, even
written `%2e%2e`) and Django would split or decode others. So the segment is encoded twice:

- here, `%` becomes `%25` and `/` becomes `%2F`, and an ID that is only dots (`.`, `..`) has
  each dot written `%2E`;
- then Django's reverse() percent-encodes the result like any argument, so `%` goes out as `%25`.

`..` is therefore sent as `%252E%252E`, which no browser takes for a dot segment; the server
decodes it once into `%2E%2E` and the converter once more into `..`. Every other character
travels as reverse() quotes it. Links to an account page are built only by reversing
"mutes:account" (or "mutes:cards") through AccountConverter: in templates with `{% url %}`, in
code with account_url(), and for long lists with AccountUrls, which gives the same URLs faster.
"""

import re
from urllib.parse import quote

from django.urls import reverse
from django.utils.http import RFC3986_SUBDELIMS

ACCOUNT_URL_NAME = "mutes:account"
# Characters reverse() leaves unquoted in a path (RFC 3986 pchar).
_PATH_SAFE = RFC3986_SUBDELIMS + "/~:@"
# The escapes account_segment() writes, and nothing else, are read back.
_ESCAPE = re.compile(r"%(25|2[Ff]|2[Ee])")
_DOT_SEGMENTS = frozenset({".", ".."})
# Stands for the account when a URL is reversed once for a whole page.
_PLACEHOLDER = "9876543210"


def account_segment(account: str) -> str:
    """The account's ID as the path segment reverse() is given (before its own quoting)."""
    segment = account.replace("%", "%25").replace("/", "%2F")
    if segment in _DOT_SEGMENTS:
        segment = segment.replace(".", "%2E")
    return segment


def account_from_segment(segment: str) -> str:
    """The account's ID from a decoded path segment: account_segment() undone.

    Only the three escapes account_segment() writes are read; any other `%` is kept as typed,
    so a hand-typed `/mutes/100%25/` still opens `100%`.
    """
    if "%" not in segment:
        return segment
    return _ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), segment)


class AccountConverter:
    """`<account:account>` in a URL pattern: one path segment holding any UserID."""

    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        return account_from_segment(value)

    def to_url(self, value: str) -> str:
        return account_segment(value)


def account_url(account: str, *, query: str = "", name: str = ACCOUNT_URL_NAME) -> str:
    """The URL of the account's page (or of another page named `name` taking the account)."""
    return reverse(name, args=[account]) + query


class AccountUrls:
    """account_url() for many accounts: the URL is reversed once, then each ID is put in.

    For lists drawn by the fragments engine, where a reverse() a row would cost more than the row.
    """

    def __init__(self, name: str = ACCOUNT_URL_NAME) -> None:
        head, _, tail = reverse(name, args=[_PLACEHOLDER]).rpartition(_PLACEHOLDER)
        self._head = head
        self._tail = tail

    def __call__(self, account: str, *, query: str = "") -> str:
        return f"{self._head}{quote(account_segment(account), safe=_PATH_SAFE)}{self._tail}{query}"
