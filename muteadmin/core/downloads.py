"""How a spreadsheet download is asked for: CSV or .xlsx (?format=), a BOM for Excel (?bom=1)."""

import codecs
from collections.abc import Iterable, Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from muteadmin.core.workbooks import XLSX_CONTENT_TYPE

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
# Excel on Windows reads a CSV as UTF-8 only when it starts with these three bytes (EF BB BF).
BOM = codecs.BOM_UTF8


def download_format(request: HttpRequest) -> str | None:
    """The format asked for with ?format=: "csv" when none is named, None for one not offered."""
    asked = request.GET.get("format", "")
    if not asked:
        return CSV
    return asked if asked in FORMATS else None


def wants_bom(request: HttpRequest) -> bool:
    """Whether a CSV download starts with a UTF-8 byte order mark.

    `?bom=1` asks for one and `?bom=0` for none; otherwise the user's saved preference decides
    (`request.preferences`, set by muteadmin.preferences' middleware), and without one, none.
    """
    asked = request.GET.get("bom")
    if asked in ("0", "1"):
        return asked == "1"
    return bool(getattr(getattr(request, "preferences", None), "csv_bom", False))


def format_refused() -> HttpResponse:
    """The answer to a ?format= naming a format that is not offered."""
    return HttpResponse(
        "Nothing was exported because that format is not offered. "
        "Ask for format=csv or format=xlsx, or use the download links on the page.\n",
        status=400,
        content_type="text/plain; charset=utf-8",
    )


class _Prefixed:
    """A stream with some bytes before it; closing it closes the stream (an audited export)."""

    def __init__(self, prefix: bytes, stream: Iterable[str | bytes]) -> None:
        self.prefix = prefix
        self.stream = stream

    def __iter__(self) -> Iterator[str | bytes]:
        yield self.prefix
        yield from self.stream

    def close(self) -> None:
        close = getattr(self.stream, "close", None)
        if close is not None:
            close()


def csv_download(
    request: HttpRequest, stream: Iterable[str | bytes], *, filename: str
) -> StreamingHttpResponse:
    """A streamed CSV attachment, starting with a BOM when the request asks for one."""
    if wants_bom(request):
        stream = _Prefixed(BOM, stream)
    response = StreamingHttpResponse(stream, content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_download(stream: Iterable[bytes], *, filename: str) -> StreamingHttpResponse:
    """A streamed .xlsx attachment."""
    response = StreamingHttpResponse(stream, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
