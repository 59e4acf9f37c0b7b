"""Each token's requests per period (API_TOKEN_RATE), counted in the shared cache (the database)."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from muteadmin.api.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """Beyond API_TOKEN_RATE a token is answered 429 with Retry-After, whatever the endpoint."""

    scope = "token"

    def get_rate(self) -> str:
        # Read per request, not at import: a test or a restart with a new value takes effect.
        return settings.API_TOKEN_RATE

    def get_cache_key(self, request, view) -> str | None:
        token = request.auth
        if not isinstance(token, ApiToken):
            return None
        return f"api-rate-{token.pk}"
