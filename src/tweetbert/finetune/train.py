"""Fine-tuning one configuration of one model on one task, with the study's four splits in their roles.

- **validation** is scored ``evaluations_per_epoch`` times per epoch, at equal fractions of it (the last at its
  end): those are the values a pruner sees (callbacks get them as ``eval_<metric>`` in ``on_evaluate``);
- **development** is scored once, on the model training ends with (the last epoch's weights; no epoch is restored),
  and that score is a trial's objective: no development example is seen while training runs;
- **test** is scored only by :func:`score_split` on a kept model, once per (model, task).

Nothing is checkpointed: :func:`finetune` returns the trained model so a sweep can keep the best trial's.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoTokenizer, EvalPrediction, PreTrainedModel, Trainer, TrainerCallback, TrainerControl, TrainerState,
    TrainingArguments, set_seed,
)

from tweetbert.finetune.features import (
    DEFAULT_MAX_LENGTH, DEFAULT_STRIDE, Encoder, Feature, PaddingCollator, build_features, qa_answers, qa_features,
)
from tweetbert.finetune.model import load_model
from tweetbert.settings import mirrors, setting
from tweetbert.tasks.metrics import compute_metrics
from tweetbert.tasks.registry import TaskSpec
from tweetbert.tasks.types import ProblemType, TaskData

PARAMS = ("learning_rate", "batch_size", "epochs", "warmup_ratio", "weight_decay")
"""The hyperparameters of one configuration; :func:`finetune` needs exactly these."""

EVAL_BATCH_SIZE = 64


@mirrors("sweep")
@dataclass(frozen=True)
class FinetuneSettings:
    """What scoring the kept best model depends on (the rest of the sweep's settings made it)."""

    max_length: int = 128
    seed: int = setting(0, key="seed")


def _check_params(params: Mapping[str, Any]) -> None:
    missing, unknown = set(PARAMS) - set(params), set(params) - set(PARAMS)
    if missing or unknown:
        raise ValueError(f"fine-tuning parameters: missing {sorted(missing)}, unknown {sorted(unknown)}")
    if not 0.0 <= float(params["warmup_ratio"]) < 1.0:
        raise ValueError(f"warmup_ratio must be in [0, 1), got {params['warmup_ratio']!r}")


Scorer = Callable[[EvalPrediction], dict[str, float]]


def _split(task: TaskData, spec: TaskSpec, split: str, encoder: Encoder, stride: int) -> tuple[list[Feature], Scorer]:
    """A split's features and the Trainer ``compute_metrics`` that scores predictions over them.

    QA predictions (start and end logits per window) are decoded into answer strings first.
    """
    examples = task[split]
    if task.problem_type is not ProblemType.EXTRACTIVE_QA:
        return (build_features(examples, task.problem_type, encoder),
                lambda prediction: compute_metrics(spec.metrics, prediction.predictions, examples))
    features, windows = qa_features(examples, encoder, stride)

    def score(prediction: EvalPrediction) -> dict[str, float]:
        start_logits, end_logits = prediction.predictions
        return compute_metrics(spec.metrics, qa_answers(start_logits, end_logits, windows, examples), examples)

    return features, score


_prepared: dict[tuple, tuple] = {}


def _prepare(model_dir: Path, task: TaskData, spec: TaskSpec, max_length: int, stride: int, split: str,
             encoder_factory: Callable[[], Encoder]) -> tuple[list[Feature], Scorer]:
    """A split's features, built once per process and (model, task, split): every trial of a sweep reuses them.

    The cache holds the task object itself, so its ``id`` in the key cannot be reused by another task.
    """
    key = (str(Path(model_dir).resolve()), id(task), split, max_length, stride)
    if key not in _prepared:
        _prepared[key] = (task, *_split(task, spec, split, encoder_factory(), stride))
    _, features, scorer = _prepared[key]
    return features, scorer


class _ScoreWithinEpochs(TrainerCallback):
    """Asks for validation scores after the fractions 1/k .. (k-1)/k of every epoch; the trainer scores its end.

    The j-th score of an epoch comes after the first optimiser step by which at least j/k of the epoch's batches
    were trained on, so runs with different batch sizes are scored after equal shares of the data. A run stopped
    mid-epoch (a pruned trial) was just scored: the trainer's end-of-epoch score of the partial epoch is skipped.
    Each evaluation's data loader draws from torch's random generator; its state is restored after a score within
    an epoch, so the model trained does not depend on how often it was scored.
    """

    def __init__(self, evaluations_per_epoch: int):
        self.evaluations_per_epoch = evaluations_per_epoch
        self._steps_per_epoch = 0
        self._within: set[int] = set()
        self._rng_state: tuple | None = None

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs):
        self._steps_per_epoch = state.max_steps // math.ceil(args.num_train_epochs)
        k, steps = self.evaluations_per_epoch, self._steps_per_epoch
        self._within = {math.ceil(j * steps / k) for j in range(1, k)} - {steps}

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs):
        if (state.global_step - 1) % self._steps_per_epoch + 1 in self._within:
            control.should_evaluate = True
            self._rng_state = (torch.get_rng_state(),
                               torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None)

    def on_evaluate(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs):
        if self._rng_state is not None:
            cpu, cuda = self._rng_state
            torch.set_rng_state(cpu)
            if cuda is not None:
                torch.cuda.set_rng_state_all(cuda)
            self._rng_state = None

    def on_epoch_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs):
        if state.global_step % self._steps_per_epoch and state.global_step < state.max_steps:
            control.should_evaluate = False


def _whole_epoch(epoch: float) -> bool:
    return abs(epoch - round(epoch)) < 1e-6


def _epoch_logs(log_history: list[dict[str, Any]], spec: TaskSpec) -> tuple[list[float], list[dict[str, float]]]:
    """Per-epoch mean training loss and end-of-epoch validation metrics (with ``epoch`` and validation ``loss``).

    Scores within an epoch (``evaluations_per_epoch`` above 1) are the pruner's; the records keep one row per epoch.
    """
    train_loss = [entry["loss"] for entry in log_history if "loss" in entry]
    validation = [{"epoch": round(entry["epoch"]), "loss": entry["eval_loss"],
                   **{name: entry[f"eval_{name}"] for name in spec.metrics}}
                  for entry in log_history if "eval_loss" in entry and _whole_epoch(entry["epoch"])]
    return train_loss, validation


def weights_sha256(model: PreTrainedModel) -> str:
    """A digest of every weight (names in order, dtypes, shapes, bytes): equal digests mean the same model."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        value = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{value.dtype}|{tuple(value.shape)}|".encode())
        digest.update(value.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _arguments(output_dir: Path, seed: int, batch_size: int, **training: Any) -> TrainingArguments:
    return TrainingArguments(
        output_dir=str(output_dir),
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=max(batch_size, EVAL_BATCH_SIZE),
        save_strategy="no",
        report_to="none",
        use_cpu=not torch.cuda.is_available(),
        seed=seed,
        data_seed=seed,
        dataloader_num_workers=0,
        disable_tqdm=True,
        **training,
    )


def _predict(trainer: Trainer, features: list[Feature], scorer: Scorer, spec: TaskSpec, split: str) -> dict[str, float]:
    trainer.compute_metrics = scorer
    output = trainer.predict(features, metric_key_prefix=split)
    return {name: output.metrics[f"{split}_{name}"] for name in spec.metrics}


def score_split(model_dir: Path, model: PreTrainedModel, task: TaskData, spec: TaskSpec, split: str, *,
                seed: int, output_dir: Path, max_length: int = DEFAULT_MAX_LENGTH,
                stride: int = DEFAULT_STRIDE) -> dict[str, float]:
    """``model``'s metrics on one split, its inputs encoded with ``model_dir``'s tokenizer as in training."""
    set_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    length = min(max_length, model.config.max_position_embeddings)
    features, scorer = _prepare(model_dir, task, spec, length, stride, split, lambda: Encoder(model_dir, length))
    trainer = Trainer(model=model, args=_arguments(output_dir, seed, EVAL_BATCH_SIZE),
                      data_collator=PaddingCollator(tokenizer.pad_token_id), processing_class=tokenizer)
    return _predict(trainer, features, scorer, spec, split)


def finetune(model_dir: Path, task: TaskData, spec: TaskSpec, params: Mapping[str, Any], *, seed: int,
             output_dir: Path, callbacks: Sequence[TrainerCallback] = (), random_init: bool = False,
             max_length: int = DEFAULT_MAX_LENGTH, stride: int = DEFAULT_STRIDE,
             evaluations_per_epoch: int = 1) -> dict[str, Any]:
    """Fine-tunes ``spec.head`` on ``task``'s train split, scoring validation during it and dev at the end.

    ``params`` holds :data:`PARAMS`; ``warmup_ratio`` is the share of optimiser steps with a linearly rising
    learning rate, which then decays linearly to 0. ``random_init`` trains the same architecture from fresh weights.
    Inputs are cut to ``max_length`` tokens (at most the model's ``max_position_embeddings``); QA contexts are cut
    into windows overlapping by ``stride`` tokens. Validation is scored ``evaluations_per_epoch`` times per epoch
    (see :class:`_ScoreWithinEpochs`); an epoch of fewer optimiser steps is scored after each step.

    Returns ``validation`` (end-of-epoch validation metrics and loss), ``train_loss`` (per-epoch mean),
    ``main_metric``, ``dev`` (the final model's dev metrics), ``objective`` (its main metric), ``steps``
    (optimiser steps taken; fewer than planned when a callback stopped training), ``weights_sha256`` and ``model``
    (the final model itself, which every returned score describes).
    """
    _check_params(params)
    if isinstance(evaluations_per_epoch, bool) or not isinstance(evaluations_per_epoch, int) \
            or evaluations_per_epoch < 1:
        raise ValueError(f"evaluations_per_epoch must be a positive integer, got {evaluations_per_epoch!r}")
    if spec.problem_type is not task.problem_type:
        raise ValueError(f"task {task.name} is {task.problem_type}, spec {spec.name} is {spec.problem_type}")
    set_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = load_model(model_dir, spec, task.num_labels, label_names=task.label_names, random_init=random_init)
    length = min(max_length, model.config.max_position_embeddings)
    encoders: list[Encoder] = []

    def encoder() -> Encoder:
        if not encoders:
            encoders.append(Encoder(model_dir, length))
        return encoders[0]

    train_features, _ = _prepare(model_dir, task, spec, length, stride, "train", encoder)
    validation_features, validation_score = _prepare(model_dir, task, spec, length, stride, "validation", encoder)
    args = _arguments(output_dir, seed, int(params["batch_size"]),
                      learning_rate=float(params["learning_rate"]), num_train_epochs=float(params["epochs"]),
                      warmup_steps=float(params["warmup_ratio"]), weight_decay=float(params["weight_decay"]),
                      lr_scheduler_type="linear", eval_strategy="epoch", logging_strategy="epoch")
    within = [_ScoreWithinEpochs(evaluations_per_epoch)] if evaluations_per_epoch > 1 else []
    trainer = Trainer(model=model, args=args, data_collator=PaddingCollator(tokenizer.pad_token_id),
                      train_dataset=train_features, eval_dataset=validation_features, processing_class=tokenizer,
                      compute_metrics=validation_score, callbacks=[*within, *callbacks])
    trainer.train()
    train_loss, validation = _epoch_logs(trainer.state.log_history, spec)
    dev_features, dev_score = _prepare(model_dir, task, spec, length, stride, "dev", encoder)
    dev = _predict(trainer, dev_features, dev_score, spec, "dev")
    return {
        "validation": validation,
        "train_loss": train_loss,
        "main_metric": spec.main_metric,
        "dev": dev,
        "objective": dev[spec.main_metric],
        "steps": trainer.state.global_step,
        "weights_sha256": weights_sha256(trainer.model),
        "model": trainer.model,
    }
