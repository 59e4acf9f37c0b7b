"""What every API endpoint shares: token authentication, scopes, the rate limit, problem details,
the app named by `?app=` (as the pages take it), and answers never kept by a browser's cache."""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.utils.decorators import classonlymethod
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from muteadmin.api.problems import Problem
from muteadmin.core.http import client_ip
from muteadmin.mutes.forms import LookupForm
from muteadmin.tencent.nospeaking import PERMANENT, MuteStatus
from muteadmin.upstream.registry import TimApp
from muteadmin.upstream.selection import UnknownApp, app_requested


class ApiView(APIView):
    """An endpoint: `scopes` names the token scope each method needs, `permissions` the role's."""

    scopes: Mapping[str, str] = {}
    permissions: Mapping[str, str] = {}

    @classonlymethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)
        # The API authenticates by token, never by the session the sign-in pages require.
        view.login_required = False
        return view

    def finalize_response(self, request: Request, response: Response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response

    @property
    def app(self) -> TimApp:
        """The app `?app=` names (the default app without it); a 404 problem for another name."""
        try:
            return app_requested(self.request._request)
        except UnknownApp as exc:
            raise Problem("not-found", status=404, detail=str(exc)) from None

    @property
    def client_ip(self) -> str | None:
        return client_ip(self.request._request)

    def account_checked(self, account: str) -> None:
        """A 404 problem for an account that is no UserID, as its page answers, calling nothing."""
        form = LookupForm(data={"account": account})
        if not form.is_valid():
            message = form.errors["account"][0]
            raise Problem("not-found", status=404, detail=message)

    def page_url(self, **cursor: str) -> str:
        """This address with the query string as sent and one cursor replaced."""
        params = [
            (name, value)
            for name, values in self.request.query_params.lists()
            if name not in ("before", "after", "cursor")
            for value in values
        ]
        return self.request.build_absolute_uri(
            f"{self.request.path}?{urlencode([*params, *cursor.items()])}"
        )

    def paged(
        self, rows: list, *, after: str | None, before: str | None, forward: str = "before"
    ) -> Response:
        """A page of `rows` with the URLs of its neighbours: `next` follows the `forward`
        cursor (before= or after=), `previous` the other one; null where there is none."""
        cursors = {"after": after, "before": before}
        backward = "after" if forward == "before" else "before"
        links = {
            link: self.page_url(**{name: cursors[name]}) if cursors[name] else None
            for link, name in (("next", forward), ("previous", backward))
        }
        return Response({"results": rows, **links})


@extend_schema(exclude=True)
class NotFoundView(ApiView):
    """Any other address under /api/v1/: a 404 in problem details, whoever asks (not in the
    schema: it is no endpoint)."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = []

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        raise Problem(
            "not-found",
            status=404,
            detail=gettext(
                "There is no API endpoint at this address; the schema at /api/v1/schema lists them."
            ),
        )

    def get(self, request: Request, *args, **kwargs) -> Response:  # pragma: no cover
        raise AssertionError("initial() answers every request")

    post = put = patch = delete = get


def mute_kind(seconds: int, *, observed_at: datetime) -> dict[str, Any]:
    """One mute as the API tells it: seconds left, whether permanent, and when it ends."""
    ends_at = None
    if 0 < seconds < PERMANENT:
        ends_at = observed_at + timedelta(seconds=seconds)
    return {"remaining_seconds": seconds, "permanent": seconds == PERMANENT, "ends_at": ends_at}


def mute_state(status: MuteStatus, *, app: str, audit_id: int | None) -> dict[str, Any]:
    """An account's mutes as Tencent answered them, and the audit row of that query."""
    observed = status.observed_at.astimezone(UTC)
    return {
        "account": status.account,
        "app": app,
        "c2c": mute_kind(status.c2c_seconds, observed_at=observed),
        "group": mute_kind(status.group_seconds, observed_at=observed),
        "observed_at": observed,
        "audit_id": audit_id,
    }
