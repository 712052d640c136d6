"""Downstream tasks: one registry of loaders, problem types, heads, splits and metrics."""

from tweetbert.tasks.metrics import METRICS, compute_metrics
from tweetbert.tasks.registry import TASKS, TaskSpec, get_task, load_task
from tweetbert.tasks.types import SPLITS, ProblemType, TaskData

__all__ = ["METRICS", "SPLITS", "TASKS", "ProblemType", "TaskData", "TaskSpec", "compute_metrics", "get_task",
           "load_task"]
