"""The machine's load beside every benchmark figure.

Figures taken while other work ran (helpers, a test suite, a second benchmark) were off by up to 2.7x on a 2-core
machine, so each benchmark prints the load average per core before and after its run, and warns when it was above
0.5 per core before it started (the figure after includes the benchmark's own work).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

BUSY_PER_CORE = 0.5


def load_per_core() -> float:
    """The 1-minute load average divided by the cores."""
    return os.getloadavg()[0] / (os.cpu_count() or 1)


def busy_warning(before: float) -> str:
    """A warning line when the machine was busy before the run; empty otherwise."""
    if before <= BUSY_PER_CORE:
        return ""
    return (f"**Warning: the load average was {before:.2f} per core before the run (over {BUSY_PER_CORE}): other "
            "work was running, so the timings are not a quiet machine's.**")


@contextmanager
def load_report() -> Iterator[None]:
    """Prints the load per core before the block and after it, with the warning where it applies."""
    before = load_per_core()
    print(f"load average per core before the run: {before:.2f} ({os.cpu_count()} cores)", flush=True)
    if warning := busy_warning(before):
        print(warning, flush=True)
    try:
        yield
    finally:
        print(f"load average per core after the run: {load_per_core():.2f} (counts the benchmark's own work)",
              flush=True)
