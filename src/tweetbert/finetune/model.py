"""The downstream head for a task: the Auto class its spec names, configured for its problem type and labels."""

from __future__ import annotations

from pathlib import Path

import transformers
from transformers import AutoConfig, PreTrainedModel

from tweetbert.tasks.registry import SEQUENCE_CLASSIFICATION, TaskSpec


def load_model(model_dir: Path, spec: TaskSpec, num_labels: int | None = None, *,
               label_names: list[str] | None = None, random_init: bool = False) -> PreTrainedModel:
    """``spec.head`` on the pre-trained encoder in ``model_dir``, the head freshly initialised.

    Sequence-classification heads get ``num_labels`` and the transformers ``problem_type`` (which picks the loss:
    cross-entropy, BCE with logits, or MSE); ``label_names`` become ``id2label``. ``random_init=True`` builds the
    same configuration with every weight fresh: the control for what pre-training contributes. Seed torch before
    calling for reproducible heads.
    """
    overrides = {}
    if spec.head == SEQUENCE_CLASSIFICATION:
        if num_labels is None:
            raise ValueError(f"task {spec.name}: a sequence-classification head needs num_labels")
        overrides = {"num_labels": num_labels, "problem_type": spec.hf_problem_type}
        if label_names is not None:
            if len(label_names) != num_labels:
                raise ValueError(f"task {spec.name}: {len(label_names)} label names for {num_labels} labels")
            overrides["id2label"] = dict(enumerate(label_names))
            overrides["label2id"] = {name: index for index, name in enumerate(label_names)}
    auto_class = getattr(transformers, spec.head)
    config = AutoConfig.from_pretrained(model_dir, **overrides)
    if random_init:
        return auto_class.from_config(config)
    return auto_class.from_pretrained(model_dir, config=config)
