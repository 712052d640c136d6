"""Host-side work (masking, padding, pinning) done in a background thread a few items ahead of the training loop.

What each item holds is decided by the iterator alone (its seeds come from the step, never from timing), so
prefetching changes when a batch is made, not what it is: a run is the same with it as without it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import Generic, Self, TypeVar

Item = TypeVar("Item")
DEPTH = 4  # items made ahead: enough to hide a slow batch, few enough to keep pinned memory small
_END = object()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


class Prefetched(Generic[Item]):
    """Iterates ``items`` in a daemon thread, at most ``depth`` items ahead; an error there is raised here, at the
    item it replaced. Close it (or use it as a context manager) when leaving early: the thread then stops."""

    def __init__(self, items: Iterator[Item], depth: int = DEPTH):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._fill, args=(items,), name="tweetbert-prefetch", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        """Queues ``item`` unless the consumer has closed; returns whether it was queued."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _fill(self, items: Iterator[Item]) -> None:
        try:
            for item in items:
                if not self._put(item):
                    return
            self._put(_END)
        except BaseException as error:  # noqa: BLE001  (handed to the consumer, which raises it)
            self._put(_Failure(error))

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Item:
        if self._done:
            raise StopIteration
        item = self._queue.get()
        if item is _END:
            self._done = True
            raise StopIteration
        if isinstance(item, _Failure):
            self._done = True
            raise item.error
        return item

    def close(self) -> None:
        self._done = True
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
        self._thread.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
