"""The demo's own downstream tasks, registered in the task registry when :mod:`tweetbert.demo` is imported.

Three-way sentiment and defamation stand in for the study's target tasks (JTS1k, JTDD, whose tweets cannot be
shipped); both are generic tables, so they only need a name in the registry.
"""

from __future__ import annotations

from tweetbert.tasks.registry import TaskSpec, register_task, table_task

DEMO_TASKS: tuple[TaskSpec, ...] = (table_task("sentiment3"), table_task("defamation"))

for _spec in DEMO_TASKS:
    register_task(_spec)
