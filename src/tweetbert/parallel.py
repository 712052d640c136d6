"""Ordered parallel maps that hold a bounded number of batches in flight, so a stage streams its corpus.

``ProcessPoolExecutor.map`` submits every item before yielding the first result: over a generator of corpus
batches that reads the whole corpus into memory. :func:`ordered_map` keeps at most ``inflight`` batches
submitted and yields results in input order, so memory is a few batches whatever the corpus size.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(function: Callable[[T], R], items: Iterable[T], workers: int = 1,
                inflight: int | None = None) -> Iterator[R]:
    """``map(function, items)`` on ``workers`` processes (in this process when 1), results in input order.

    At most ``inflight`` items (default twice the workers) are submitted and not yet yielded.
    """
    if workers <= 1:
        yield from map(function, items)
        return
    limit = inflight or 2 * workers
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future] = deque()
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) >= limit:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
