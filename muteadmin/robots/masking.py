"""Secrets shown masked: a destination's address and signing secret never appear in full on a
page, in a log line, in a delivery's error or in an audit row."""

from urllib.parse import urlsplit

MASK = "••••"
# Shorter secrets show nothing of themselves; longer ones their last few characters, so a Lead
# can tell which one is set.
SHOWN_TAIL = 4
MIN_LENGTH_FOR_TAIL = 16


def mask_secret(value: str) -> str:
    """ "" for no secret, else the mask and (for a long one) its last four characters."""
    if not value:
        return ""
    if len(value) < MIN_LENGTH_FOR_TAIL:
        return MASK
    return f"{MASK}{value[-SHOWN_TAIL:]}"


def mask_url(url: str) -> str:
    """The address's scheme and host, then the mask and the last four characters."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return MASK
    tail = url[-SHOWN_TAIL:] if len(url) >= MIN_LENGTH_FOR_TAIL + len(host) else ""
    return f"{parts.scheme}://{host}{port}/{MASK}{tail}"


def secrets_removed(text: str, *, url: str, secret: str) -> str:
    """`text` with the address, its path and query, and the secret replaced by masks."""
    parts = urlsplit(url)
    for value in (url, parts.query, parts.path if len(parts.path) > 1 else "", secret):
        if value:
            text = text.replace(value, MASK)
    return text
