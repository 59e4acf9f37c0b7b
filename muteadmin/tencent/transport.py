"""The HTTP transport the client mounts: it tells when each request has been written.

The client's rate limiter counts a call for one window from when it went out. urllib3 writes a
request after any TCP and TLS handshake (which on a distant server take longer than any margin a
limiter could add) and the thread may lose the CPU on its way there, so the one moment a stamp
is known not to precede the write is just after it: the request has then been handed to the
kernel, and only the network's transit lies between it and its arrival. The client hands the
transport what to run at that moment through `written_during`, and a transport reports the
moment with `request_written()`: this module's adapter once urllib3 has written the request, an
in-process one (the emulator's) as the request arrives. A transport that never reports it
leaves the client to run it once the response is in, which is late but never early.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_written: ContextVar[Callable[[], None] | None] = ContextVar("written", default=None)


@contextmanager
def written_during(callback: Callable[[], None]) -> Iterator[None]:
    """Have a request sent in this block, by this thread, run `callback` once it is written."""
    token = _written.set(callback)
    try:
        yield
    finally:
        _written.reset(token)


def request_written() -> None:
    """Report, from a transport, that the request this thread is sending has been written."""
    callback = _written.get()
    if callback is not None:
        callback()


class _Written:
    """Writes the request (connecting first if need be), then reports it written."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        super().request(*args, **kwargs)
        request_written()


class _HTTPConnection(_Written, HTTPConnection):
    pass


class _HTTPSConnection(_Written, HTTPSConnection):
    pass


class _HTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class WrittenAdapter(HTTPAdapter):
    """requests' own adapter, whose connections run the callback once a request is written."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _HTTPConnectionPool,
            "https": _HTTPSConnectionPool,
        }
