"""Fine-tuning one configuration of one model on one downstream task."""

from tweetbert.finetune.features import (
    DEFAULT_MAX_LENGTH, DEFAULT_STRIDE, Encoder, PaddingCollator, Window, build_features, qa_answers, qa_features,
)
from tweetbert.finetune.model import load_model
from tweetbert.finetune.train import PARAMS, finetune, score_split, weights_sha256

__all__ = ["DEFAULT_MAX_LENGTH", "DEFAULT_STRIDE", "PARAMS", "Encoder", "PaddingCollator", "Window", "build_features",
           "finetune", "load_model", "qa_answers", "qa_features", "score_split", "weights_sha256"]
