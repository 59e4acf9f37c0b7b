"""The HTTP transport the client mounts: it tells when each request actually goes out.

A request goes out when urllib3 starts writing it on a connection that is already established:
a fresh connection's TCP and TLS handshakes come first, and on a distant server they take longer
than any margin a rate limiter could add. The client hands the transport what to run at that
moment through `going_out_during`; a transport that never runs it (another adapter mounted on the
session, a proxy) leaves the client to run it itself.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_going_out: ContextVar[Callable[[], None] | None] = ContextVar("going_out", default=None)


@contextmanager
def going_out_during(callback: Callable[[], None]) -> Iterator[None]:
    """Have a request sent in this block, by this thread, run `callback` as it goes out."""
    token = _going_out.set(callback)
    try:
        yield
    finally:
        _going_out.reset(token)


class _GoingOut:
    """Connects first if need be, runs the callback, then writes the request."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        if not self.is_connected:
            self.connect()
        callback = _going_out.get()
        if callback is not None:
            callback()
        super().request(*args, **kwargs)


class _HTTPConnection(_GoingOut, HTTPConnection):
    pass


class _HTTPSConnection(_GoingOut, HTTPSConnection):
    pass


class _HTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class GoingOutAdapter(HTTPAdapter):
    """requests' own adapter, whose connections run the going-out callback."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _HTTPConnectionPool,
            "https": _HTTPSConnectionPool,
        }
