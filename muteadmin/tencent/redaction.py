"""Keep UserSigs out of log lines and exception text."""

import logging
import re

REDACTED = "[redacted]"

# Matches `usersig=...` in URLs and `'usersig': '...'` / `"usersig": "..."` in reprs of dicts.
_USERSIG = re.compile(r"""(usersig['"]?\s*[=:]\s*['"]?)[^&\s'"]+""", re.IGNORECASE)

# urllib3 logs each request line with the full URL at DEBUG and retried URLs at WARNING.
URLLIB3_LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry")


def redact(text: str) -> str:
    """Return `text` with the value of every `usersig` parameter replaced by `[redacted]`."""
    return _USERSIG.sub(rf"\1{REDACTED}", text)


class RedactSecretsFilter(logging.Filter):
    """Logging filter that rewrites a record's message and traceback text through `redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
            malformed = False
        except (TypeError, ValueError):
            # The handler would print a malformed record's msg and args raw: flatten it first.
            message, malformed = f"{record.msg} {record.args}", True
        redacted = redact(message)
        if malformed or redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def redaction_install() -> None:
    """Attach one `RedactSecretsFilter` to each urllib3 logger that can print a request URL."""
    for name in URLLIB3_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecretsFilter) for f in logger.filters):
            logger.addFilter(RedactSecretsFilter())
