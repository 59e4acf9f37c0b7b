"""System checks for the audit log's settings: production refuses to start without a chain key."""

from django.conf import settings
from django.core import checks

# Shorter keys are allowed but warned about: the key is what an insider must not guess.
KEY_MIN_LENGTH = 32


@checks.register(checks.Tags.security, deploy=False)
def check_audit_chain_key(app_configs, **kwargs) -> list[checks.CheckMessage]:
    key = settings.AUDIT_CHAIN_KEY
    generate = "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
    if not key:
        if settings.DEBUG:
            return []
        return [
            checks.Error(
                "AUDIT_CHAIN_KEY is not set, so the audit log's hash chain has no key and "
                "anyone who can write the database could rewrite it unnoticed.",
                hint=f"Set AUDIT_CHAIN_KEY in the environment (never in the database). {generate}",
                id="muteadmin.E101",
            )
        ]
    if len(key) < KEY_MIN_LENGTH:
        return [
            checks.Warning(
                f"AUDIT_CHAIN_KEY is shorter than {KEY_MIN_LENGTH} characters.",
                hint=f"Use a long random key from the start: it cannot change later. {generate}",
                id="muteadmin.W102",
            )
        ]
    return []
