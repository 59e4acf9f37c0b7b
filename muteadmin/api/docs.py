"""The OpenAPI schema and its docs page.

The docs page is one of the site's pages (its layout, navigation and language), drawn on the
server from the same schema: no script, nothing from elsewhere. It is for people signed in to
the dashboard; the schema answers them and any valid token.
"""

from typing import Any

from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer

from muteadmin.api.authentication import BearerTokenAuthentication
from muteadmin.api.reference import api_reference


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 schema, to a token or to someone signed in (the docs page reads it)."""

    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = []

    def finalize_response(self, request, response, *args, **kwargs):
        if getattr(response, "exception", False):
            # A refusal is problem details in JSON, whichever schema format was asked for.
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


def schema_view():
    view = SchemaView.as_view()
    view.login_required = False  # a token authenticates here, without a session
    return view


class DocsView(TemplateView):
    """Each operation of the schema, its parameters, body and answers, in the reader's language."""

    template_name = "api/docs.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(**kwargs) | {"reference": api_reference()}
