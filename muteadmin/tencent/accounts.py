"""Which account IDs Tencent accepts; checked once, before anything is sent or audited."""

from collections.abc import Callable
from typing import Any, ClassVar

ACCOUNT_MAX_BYTES = 32


def N_(message: str) -> str:
    """Marks a sentence for the translation catalogs; it is translated when shown (`translate`)."""
    return message


class InvalidAccount(ValueError):
    """An account ID Tencent would not accept; its message is a sentence for a form, in the
    reader's language when shown (this layer knows no Django: muteadmin.upstream installs
    Django's gettext as `translate` when the project starts)."""

    translate: ClassVar[Callable[[str], str]] = staticmethod(lambda message: message)

    def __init__(self, message: str, **params: Any) -> None:
        self.message = message
        self.params = params
        super().__init__(message % params if params else message)

    def __str__(self) -> str:
        sentence = self.translate(self.message)
        return sentence % self.params if self.params else sentence


def validate_account(account: str) -> None:
    """Raise InvalidAccount unless `account` is 1 to 32 bytes of printable ASCII."""
    if not isinstance(account, str) or not account:
        raise InvalidAccount(N_("Enter an account ID."))
    if not all(" " <= char <= "~" for char in account):
        raise InvalidAccount(
            N_("An account ID may contain only letters, digits, spaces and ASCII punctuation.")
        )
    if len(account) > ACCOUNT_MAX_BYTES:  # printable ASCII: one byte per character
        raise InvalidAccount(
            N_("An account ID is at most %(limit)s characters long."), limit=ACCOUNT_MAX_BYTES
        )
