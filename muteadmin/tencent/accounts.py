"""Which account IDs Tencent accepts; checked once, before anything is sent or audited."""

ACCOUNT_MAX_BYTES = 32


class InvalidAccount(ValueError):
    """An account ID Tencent would not accept; its message is a sentence for a form."""


def validate_account(account: str) -> None:
    """Raise InvalidAccount unless `account` is 1 to 32 bytes of printable ASCII."""
    if not isinstance(account, str) or not account:
        raise InvalidAccount("Enter an account ID.")
    if not all(" " <= char <= "~" for char in account):
        raise InvalidAccount(
            "An account ID may contain only letters, digits, spaces and ASCII punctuation."
        )
    if len(account) > ACCOUNT_MAX_BYTES:  # printable ASCII: one byte per character
        raise InvalidAccount(f"An account ID is at most {ACCOUNT_MAX_BYTES} characters long.")
