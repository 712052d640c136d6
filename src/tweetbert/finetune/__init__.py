"""Fine-tuning one configuration of one model on one downstream task."""

from tweetbert.finetune.features import (
    DEFAULT_MAX_LENGTH, DEFAULT_STRIDE, Encoder, PaddingCollator, Window, build_features, qa_answers, qa_features,
)
from tweetbert.finetune.model import load_model
from tweetbert.finetune.train import (
    PARAMS, Finetuner, PreparedTask, finetune, prepare_task, score_split, weights_sha256,
)

__all__ = ["DEFAULT_MAX_LENGTH", "DEFAULT_STRIDE", "PARAMS", "Encoder", "Finetuner", "PaddingCollator", "PreparedTask",
           "Window", "build_features", "finetune", "load_model", "prepare_task", "qa_answers", "qa_features",
           "score_split", "weights_sha256"]
