"""The OpenAPI schema and its docs page, served from this server (no CDN, the site's CSP intact).

The docs page is Swagger UI from drf-spectacular-sidecar's vendored files, its start-up script
fetched as a file of its own (SpectacularSwaggerSplitView) and its layout rules from our static
CSS, so the page needs no inline script or style and no exemption from the CSP. The page is
for people signed in to the dashboard; the schema answers them and any valid token.
"""

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer

from muteadmin.api.authentication import BearerTokenAuthentication


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


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI over the schema; the sign-in pages guard it as every page of the site."""

    template_name = "api/docs.html"
    authentication_classes = [SessionAuthentication]
    permission_classes = [AllowAny]
    throttle_classes = []
    url_name = "api:schema"
    title = "muteadmin API"


def docs_view():
    view = DocsView.as_view()
    # REST framework's views leave sign-in to themselves; this page is the site's, signed in.
    view.login_required = True
    return view
