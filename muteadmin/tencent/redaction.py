"""Keep UserSigs, and the keys in chat-robot webhook addresses, out of log lines and exception
text."""

import logging
import re

REDACTED = "[redacted]"

# Matches `usersig=...` in URLs and `'usersig': '...'` / `"usersig": "..."` in reprs of dicts.
_USERSIG = re.compile(r"""(usersig['"]?\s*[=:]\s*['"]?)[^&\s'"]+""", re.IGNORECASE)

# The secret parts of chat-robot addresses (muteadmin/robots): WeCom's `key`, DingTalk's
# `access_token` and `sign`, a Slack incoming webhook's path, a Feishu bot's hook id.
_WEBHOOK_SECRETS = (
    re.compile(r"""([?&](?:key|access_token|sign)=)[^&\s'"]+""", re.IGNORECASE),
    re.compile(r"""(hooks\.slack\.com(?::\d+)?/services/)[^\s'"?]+""", re.IGNORECASE),
    re.compile(r"""(/open-apis/bot/v2/hook/)[^\s'"?]+"""),
)

# urllib3 logs each request line with the full URL at DEBUG and retried URLs at WARNING.
URLLIB3_LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry")


def redact(text: str) -> str:
    """Return `text` with every `usersig` parameter's value, and every chat-robot address's
    secret part, replaced by `[redacted]`."""
    text = _USERSIG.sub(rf"\1{REDACTED}", text)
    for pattern in _WEBHOOK_SECRETS:
        text = pattern.sub(rf"\1{REDACTED}", text)
    return text


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
