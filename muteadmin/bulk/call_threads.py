"""The threads a worker's run makes its calls on, side by side."""

import threading
from concurrent.futures import Executor, ThreadPoolExecutor

from django.db import connections

# How long a call thread waits for its siblings when the run ends, to close its connections.
CLOSE_SECONDS = 30.0


class CallThreads:
    """A pool of threads for a run's calls; closing it closes their database connections too.

    The emulator answers from the database, so a call thread may hold a connection of its own.
    """

    def __init__(self, *, size: int, name: str) -> None:
        self._started = 0
        self._lock = threading.Lock()
        self.executor: Executor = ThreadPoolExecutor(
            max_workers=size, thread_name_prefix=name, initializer=self._count
        )

    def _count(self) -> None:
        with self._lock:
            self._started += 1

    def close(self) -> None:
        # One task per thread: each waits at the barrier until every thread holds one.
        with self._lock:
            started = self._started
        if started:
            barrier = threading.Barrier(started)
            for _ in range(started):
                self.executor.submit(_connections_close, barrier)
        self.executor.shutdown(wait=True)


def _connections_close(barrier: threading.Barrier) -> None:
    try:
        barrier.wait(timeout=CLOSE_SECONDS)
    except threading.BrokenBarrierError:
        pass
    finally:
        connections.close_all()
