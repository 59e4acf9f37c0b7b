"""What a token may call: its scopes, then what its role may do (the pages' permissions)."""

from django.utils.translation import gettext
from rest_framework.exceptions import MethodNotAllowed, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from muteadmin.api.models import ApiToken


class TokenScope(BasePermission):
    """The view's `scopes` (by method) must be the token's; its `permissions` the role's.

    A POST whose role may not make it is left to the service, which audits the refusal as
    the pages' refusals are.
    """

    def has_permission(self, request: Request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return False
        method = "GET" if request.method == "HEAD" else request.method
        if method == "OPTIONS":
            return True  # what the endpoint takes, for any valid token
        if method not in view.scopes:
            raise MethodNotAllowed(request.method)
        scope = view.scopes[method]
        if scope not in token.scopes:
            raise PermissionDenied(
                gettext("This token lacks the %(scope)s scope; ask a Lead for a token that has it.")
                % {"scope": scope}
            )
        permission = getattr(view, "permissions", {}).get(method)
        if permission and not request.user.has_perm(permission):
            raise PermissionDenied(
                gettext(
                    "The token's role (%(role)s) may not do this; a token of a role "
                    "that may is needed."
                )
                % {"role": token.role.name}
            )
        return True
