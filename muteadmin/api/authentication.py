"""`Authorization: Bearer <token>` for the API; a session cookie authenticates nothing here."""

from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from muteadmin.api.tokens import TokenRefused, api_token_authenticate

SCHEME = "Bearer"


class BearerTokenAuthentication(BaseAuthentication):
    """The token's own account (`token:<name>`) as the user, the ApiToken as `request.auth`."""

    def authenticate(self, request: Request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != SCHEME.lower() or not raw.strip():
            raise AuthenticationFailed(gettext("Send the token as: Authorization: Bearer <token>."))
        try:
            token = api_token_authenticate(raw.strip())
        except TokenRefused as exc:
            raise AuthenticationFailed(str(exc)) from None
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Present, so a refusal is a 401 that says how to authenticate, not a 403.
        return f'{SCHEME} realm="muteadmin"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """The schema's security scheme for BearerTokenAuthentication (drf-spectacular's extension
    point, found once this module is imported)."""

    target_class = BearerTokenAuthentication
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": gettext_lazy(
                "An API token (mta_...) a Lead made on the team page, sent as "
                "Authorization: Bearer <token>."
            ),
        }
