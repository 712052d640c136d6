"""Fine-tuning one configuration of one model on one downstream task.

The names below are loaded on first use (PEP 562): importing the package, e.g. for its light
:mod:`tweetbert.finetune.settings`, must not import torch and transformers.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "tweetbert.finetune.features": ("DEFAULT_MAX_LENGTH", "DEFAULT_STRIDE", "Encoder", "PaddingCollator", "Window",
                                    "build_features", "qa_answers", "qa_features"),
    "tweetbert.finetune.model": ("load_model",),
    "tweetbert.finetune.train": ("PARAMS", "Finetuner", "PreparedTask", "finetune", "prepare_task", "score_split",
                                 "weights_sha256"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = ["DEFAULT_MAX_LENGTH", "DEFAULT_STRIDE", "PARAMS", "Encoder", "Finetuner", "PaddingCollator", "PreparedTask",
           "Window", "build_features", "finetune", "load_model", "prepare_task", "qa_answers", "qa_features",
           "score_split", "weights_sha256"]


def __getattr__(name: str) -> Any:
    if name not in _HOME_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME_OF[name]), name)
