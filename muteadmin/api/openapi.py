"""The schema's shared pieces: the parameters and refusals several endpoints declare.

Every text here is marked for translation: the docs page draws the schema in the reader's
language.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from muteadmin.api.serializers import ProblemSerializer

APP = OpenApiParameter(
    "app",
    OpenApiTypes.STR,
    description=_("The app, by its name as the pages take it; the default app without it."),
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=_(
        "1 to 255 printable ASCII characters. A retry with the same key and request within "
        "24 hours gets the first answer and sends nothing again."
    ),
)
NEXT_CURSOR = _("The cursor in the next link: the following page. Follow the link as given.")
PREVIOUS_CURSOR = _("The cursor in the previous link: the page before. Follow the link as given.")


def refused(description: str) -> OpenApiResponse:
    """A refusal in the schema: problem details, with what this status means here."""
    return OpenApiResponse(ProblemSerializer, description=description)


INVALID = refused(_("The request is not valid: errors names each field."))
UPSTREAM = refused(
    _(
        "Tencent could not complete the call: its error_code and error_info, and whether a "
        "change may have gone through (404 for an account Tencent does not have)."
    )
)
