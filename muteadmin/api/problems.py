"""Errors as RFC 9457 problem details (`application/problem+json`): type, title, status, detail.

Validation errors list each field (`errors`: field, message, code); Tencent's failures carry its
`error_code` and `error_info`. Every refusal the API makes goes through here, so none answers
with a bare string, a traceback or a secret.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.forms import Form
from django.http import Http404
from django.utils.translation import gettext, gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from muteadmin.tencent.errors import TencentError

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "urn:muteadmin:problem:"
# A problem type per kind of refusal, and the title every problem of that type carries.
TITLES = {
    "invalid": gettext_lazy("The request is not valid"),
    "unauthenticated": gettext_lazy("Authentication needed"),
    "forbidden": gettext_lazy("Not allowed"),
    "not-found": gettext_lazy("Not found"),
    "method-not-allowed": gettext_lazy("Method not allowed"),
    "not-acceptable": gettext_lazy("Not acceptable"),
    "unsupported-media-type": gettext_lazy("Unsupported media type"),
    "rate-limited": gettext_lazy("Too many requests"),
    "stale-state": gettext_lazy("The mutes changed since you saw them"),
    "request-waiting": gettext_lazy("A request is already waiting"),
    "idempotency-key-reused": gettext_lazy("Idempotency-Key reused with another request"),
    "idempotency-key-in-use": gettext_lazy("A request with this Idempotency-Key is still running"),
    "upstream": gettext_lazy("Tencent could not complete the call"),
    "not-finished": gettext_lazy("The job is not finished"),
}
_BY_EXCEPTION = (
    (exceptions.ValidationError, "invalid"),
    (exceptions.ParseError, "invalid"),
    (exceptions.NotAuthenticated, "unauthenticated"),
    (exceptions.AuthenticationFailed, "unauthenticated"),
    (exceptions.PermissionDenied, "forbidden"),
    (exceptions.NotFound, "not-found"),
    (exceptions.MethodNotAllowed, "method-not-allowed"),
    (exceptions.NotAcceptable, "not-acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported-media-type"),
    (exceptions.Throttled, "rate-limited"),
)


class Problem(exceptions.APIException):
    """A refusal of a kind in TITLES, with extension members (`errors`, `error_code`, ...)."""

    def __init__(
        self, kind: str, *, status: int, detail: str, wait: int | None = None, **extensions: Any
    ) -> None:
        super().__init__(detail=detail)
        self.status_code = status
        self.kind = kind
        # Seconds to wait before retrying: REST framework's handler sends them as Retry-After.
        self.wait = wait
        self.extensions = extensions


def problem_response(
    kind: str, *, status: int, detail: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> Response:
    """A problem details response of `kind`."""
    body = {
        "type": TYPE_BASE + kind,
        "title": str(TITLES[kind]),
        "status": status,
        "detail": detail,
    }
    return Response(body | extra, status=status, headers=headers, content_type=CONTENT_TYPE)


def invalid(errors: list[dict[str, str | None]]) -> Problem:
    """A 400 listing what is wrong with each field (`field` None: the request as a whole)."""
    first = errors[0]["message"] if errors else gettext("The request is not valid.")
    return Problem("invalid", status=400, detail=str(first), errors=errors)


def form_errors(form: Form, *, names: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """A form's errors as the problem's `errors`, its field names renamed by `names`."""
    names = names or {}
    listed = []
    for name, errors in form.errors.as_data().items():
        for error in errors:
            for message in error.messages:
                field = None if name == "__all__" else names.get(name, name)
                listed.append({"field": field, "message": message, "code": error.code})
    return listed


def _flattened(detail: Any, prefix: str = "") -> Iterator[dict[str, Any]]:
    """DRF's nested error detail as one entry per message, fields joined with dots."""
    if isinstance(detail, Mapping):
        for name, inner in detail.items():
            field = name if name != "non_field_errors" else ""
            yield from _flattened(
                inner, f"{prefix}.{field}" if prefix and field else prefix or field
            )
    elif isinstance(detail, list):
        for index, inner in enumerate(detail):
            nested = isinstance(inner, Mapping | list)
            yield from _flattened(inner, f"{prefix}.{index}" if nested else prefix)
    else:
        yield {"field": prefix or None, "message": str(detail), "code": getattr(detail, "code", "")}


def upstream(error: TencentError, *, detail: str, **extra: Any) -> Problem:
    """Tencent's failure: 404 for an account it does not have, else 502, with its code."""
    return Problem(
        "upstream",
        status=404 if error.account_missing else 502,
        detail=detail,
        error_code=error.error_code,
        error_info=error.error_info,
        may_have_applied=error.may_have_applied,
        **extra,
    )


def problem_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler (its headers: WWW-Authenticate, Retry-After), answered as problem details."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(gettext("There is nothing at this address."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or gettext("You may not do this."))
    response = exception_handler(exc, context)
    if response is None:
        return None
    headers = {name: value for name, value in response.items() if name != "Content-Type"}
    if isinstance(exc, Problem):
        return problem_response(
            exc.kind,
            status=exc.status_code,
            detail=str(exc.detail),
            headers=headers,
            **exc.extensions,
        )
    kind = next((kind for cls, kind in _BY_EXCEPTION if isinstance(exc, cls)), "invalid")
    if isinstance(exc, exceptions.ValidationError):
        errors = list(_flattened(exc.detail))
        detail = errors[0]["message"] if errors else gettext("The request is not valid.")
        return problem_response(
            kind, status=status.HTTP_400_BAD_REQUEST, detail=detail, headers=headers, errors=errors
        )
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    if isinstance(exc, exceptions.Throttled):
        detail = gettext("This token sent too many requests; try again in %(seconds)s seconds.") % {
            "seconds": f"{exc.wait or 1:.0f}"
        }
    return problem_response(kind, status=response.status_code, detail=str(detail), headers=headers)
