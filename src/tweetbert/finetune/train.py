"""Fine-tuning one configuration of one model on one task, with the study's four splits in their roles.

- **validation** is scored ``evaluations_per_epoch`` times per epoch, at equal fractions of it (the last at its
  end): those are the values a pruner sees (callbacks get them as ``eval_<metric>`` in ``on_evaluate``);
- **development** is scored once, on the model training ends with (the last epoch's weights; no epoch is restored),
  and that score is a trial's objective: no development example is seen while training runs;
- **test** is scored only by :func:`predict_split` on a kept model (and on the reruns of its configuration with
  other seeds), once per (model, task).

A sweep's job tokenises the splits once (:class:`PreparedTask`) and each of its workers loads the model once
(:class:`Finetuner`); nothing is checkpointed: a run returns the trained model so a sweep can keep the best trial's.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from accelerate.utils import extract_model_from_parallel
from transformers import (
    AutoConfig,
    AutoTokenizer,
    EvalPrediction,
    PreTrainedModel,
    Trainer,
    TrainerCallback,
    TrainerControl,
    TrainerState,
    TrainingArguments,
    set_seed,
)

from tweetbert.finetune.features import (
    DEFAULT_MAX_LENGTH,
    DEFAULT_STRIDE,
    Encoder,
    Feature,
    PaddingCollator,
    Window,
    build_features,
    qa_answers,
    qa_features,
)
from tweetbert.finetune.model import load_model
from tweetbert.tasks.metrics import compute_metrics
from tweetbert.tasks.registry import TaskSpec
from tweetbert.tasks.types import SPLITS, ProblemType, TaskData

PARAMS = ("learning_rate", "batch_size", "epochs", "warmup_ratio", "weight_decay")
"""The hyperparameters of one configuration; :func:`finetune` needs exactly these."""

EVAL_BATCH_SIZE = 64


def _check_params(params: Mapping[str, Any]) -> None:
    missing, unknown = set(PARAMS) - set(params), set(params) - set(PARAMS)
    if missing or unknown:
        raise ValueError(f"fine-tuning parameters: missing {sorted(missing)}, unknown {sorted(unknown)}")
    if not 0.0 <= float(params["warmup_ratio"]) < 1.0:
        raise ValueError(f"warmup_ratio must be in [0, 1), got {params['warmup_ratio']!r}")


Scorer = Callable[[EvalPrediction], dict[str, float]]


@dataclass(frozen=True)
class PreparedTask:
    """A task's splits tokenised once per study: the job builds it and hands it to each of its workers.

    Plain data (examples, features, QA windows), so it crosses to a spawned worker process as it is.
    """

    task: TaskData
    spec: TaskSpec
    pad_token_id: int
    features: dict[str, list[Feature]]
    windows: dict[str, list[Window]]

    def outputs(self, split: str, predictions: Any) -> Any:
        """The per-example outputs the metrics read: the head's raw outputs, or, for QA, the answer strings decoded
        from the start and end logits of each window."""
        if split not in self.windows:
            return predictions
        start_logits, end_logits = predictions
        return qa_answers(start_logits, end_logits, self.windows[split], self.task[split])

    def scorer(self, split: str) -> Scorer:
        """The Trainer ``compute_metrics`` of one split."""
        examples, metrics = self.task[split], self.spec.metrics
        return lambda prediction: compute_metrics(metrics, self.outputs(split, prediction.predictions), examples)


def prepare_task(model_dir: str | Path, task: TaskData, spec: TaskSpec, *, max_length: int = DEFAULT_MAX_LENGTH,
                 stride: int = DEFAULT_STRIDE, splits: Sequence[str] = SPLITS) -> PreparedTask:
    """``splits`` of ``task`` encoded with ``model_dir``'s tokenizer, cut to ``max_length`` tokens (at most the
    model's ``max_position_embeddings``); QA contexts cut into windows overlapping by ``stride`` tokens."""
    if spec.problem_type is not task.problem_type:
        raise ValueError(f"task {task.name} is {task.problem_type}, spec {spec.name} is {spec.problem_type}")
    length = min(max_length, AutoConfig.from_pretrained(model_dir).max_position_embeddings)
    encoder = Encoder(Path(model_dir), length)
    features, windows = {}, {}
    for split in splits:
        if task.problem_type is ProblemType.EXTRACTIVE_QA:
            features[split], windows[split] = qa_features(task[split], encoder, stride)
        else:
            features[split] = build_features(task[split], task.problem_type, encoder)
    pad_token_id = AutoTokenizer.from_pretrained(model_dir).pad_token_id
    return PreparedTask(task, spec, pad_token_id, features, windows)


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
    """On CUDA: bf16 autocast where the GPU has it (weights and optimiser stay fp32), TF32 matmuls, pinned batches."""
    cuda = torch.cuda.is_available()
    bf16 = cuda and torch.cuda.is_bf16_supported()
    return TrainingArguments(
        output_dir=str(output_dir),
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=max(batch_size, EVAL_BATCH_SIZE),
        save_strategy="no",
        report_to="none",
        use_cpu=not cuda,
        bf16=bf16,
        bf16_full_eval=bf16,
        tf32=True if cuda else None,
        dataloader_pin_memory=cuda,
        seed=seed,
        data_seed=seed,
        dataloader_num_workers=0,
        disable_tqdm=True,
        **training,
    )


def _predict(trainer: Trainer, prepared: PreparedTask, split: str) -> tuple[dict[str, float], Any]:
    trainer.compute_metrics = prepared.scorer(split)
    output = trainer.predict(prepared.features[split], metric_key_prefix=split)
    metrics = {name: output.metrics[f"{split}_{name}"] for name in prepared.spec.metrics}
    return metrics, prepared.outputs(split, output.predictions)


def predict_split(model: PreTrainedModel, prepared: PreparedTask, split: str, *, seed: int,
                  output_dir: Path) -> tuple[dict[str, float], Any]:
    """``model``'s metrics on one prepared split, and its per-example outputs (what a bootstrap resamples)."""
    set_seed(seed)
    trainer = Trainer(model=model, args=_arguments(output_dir, seed, EVAL_BATCH_SIZE),
                      data_collator=PaddingCollator(prepared.pad_token_id))
    return _predict(trainer, prepared, split)


def score_split(model: PreTrainedModel, prepared: PreparedTask, split: str, *, seed: int,
                output_dir: Path) -> dict[str, float]:
    """``model``'s metrics on one prepared split."""
    return predict_split(model, prepared, split, seed=seed, output_dir=output_dir)[0]


class Finetuner:
    """One worker's model, loaded once: every trial starts from the same initial weights, restored from memory.

    The initial weights are those a fresh load gives after seeding (the encoder's from disk, the head's drawn from
    the seeded generator), so a trial's result does not depend on how many trials the worker ran before it: the
    Trainer reseeds before training, and gradients and mixed-precision wrappers of the previous trial are dropped.
    """

    def __init__(self, model_dir: str | Path, prepared: PreparedTask, *, seed: int, random_init: bool = False):
        set_seed(seed)
        task = prepared.task
        self.prepared = prepared
        self.seed = seed
        self.model = load_model(Path(model_dir), prepared.spec, task.num_labels, label_names=task.label_names,
                                random_init=random_init)
        pin = torch.cuda.is_available()
        self._initial = {name: (tensor.detach().clone().pin_memory() if pin else tensor.detach().clone())
                         for name, tensor in self.model.state_dict().items()}
        self._fresh = True

    def _restore(self) -> None:
        self.model = extract_model_from_parallel(self.model, keep_fp32_wrapper=False)
        with torch.no_grad():
            self.model.load_state_dict(self._initial)
        for parameter in self.model.parameters():
            parameter.grad = None

    def run(self, params: Mapping[str, Any], *, output_dir: Path, callbacks: Sequence[TrainerCallback] = (),
            evaluations_per_epoch: int = 1) -> dict[str, Any]:
        """Fine-tunes the head on the train split, scoring validation during it and dev at the end.

        ``params`` holds :data:`PARAMS`; ``warmup_ratio`` is the share of optimiser steps with a linearly rising
        learning rate, which then decays linearly to 0. Validation is scored ``evaluations_per_epoch`` times per
        epoch (see :class:`_ScoreWithinEpochs`); an epoch of fewer optimiser steps is scored after each step.

        Returns ``validation`` (end-of-epoch validation metrics and loss), ``train_loss`` (per-epoch mean),
        ``main_metric``, ``dev`` (the final model's dev metrics), ``objective`` (its main metric), ``steps``
        (optimiser steps taken; fewer than planned when a callback stopped training) and ``model`` (the final model
        itself, which every returned score describes, until the next run restores the initial weights).
        """
        _check_params(params)
        if isinstance(evaluations_per_epoch, bool) or not isinstance(evaluations_per_epoch, int) \
                or evaluations_per_epoch < 1:
            raise ValueError(f"evaluations_per_epoch must be a positive integer, got {evaluations_per_epoch!r}")
        if not self._fresh:
            self._restore()
        self._fresh = False
        prepared, spec = self.prepared, self.prepared.spec
        args = _arguments(output_dir, self.seed, int(params["batch_size"]),
                          learning_rate=float(params["learning_rate"]), num_train_epochs=float(params["epochs"]),
                          warmup_steps=float(params["warmup_ratio"]), weight_decay=float(params["weight_decay"]),
                          lr_scheduler_type="linear", eval_strategy="epoch", logging_strategy="epoch")
        within = [_ScoreWithinEpochs(evaluations_per_epoch)] if evaluations_per_epoch > 1 else []
        trainer = Trainer(model=self.model, args=args, data_collator=PaddingCollator(prepared.pad_token_id),
                          train_dataset=prepared.features["train"], eval_dataset=prepared.features["validation"],
                          compute_metrics=prepared.scorer("validation"), callbacks=[*within, *callbacks])
        trainer.train()
        train_loss, validation = _epoch_logs(trainer.state.log_history, spec)
        dev = _predict(trainer, prepared, "dev")[0]
        return {
            "validation": validation,
            "train_loss": train_loss,
            "main_metric": spec.main_metric,
            "dev": dev,
            "objective": dev[spec.main_metric],
            "steps": trainer.state.global_step,
            "model": trainer.model,
        }


def finetune(model_dir: str | Path, task: TaskData, spec: TaskSpec, params: Mapping[str, Any], *, seed: int,
             output_dir: Path, callbacks: Sequence[TrainerCallback] = (), random_init: bool = False,
             max_length: int = DEFAULT_MAX_LENGTH, stride: int = DEFAULT_STRIDE,
             evaluations_per_epoch: int = 1) -> dict[str, Any]:
    """One configuration fine-tuned from scratch: :func:`prepare_task`, then one :meth:`Finetuner.run`.

    ``random_init`` trains the same architecture from fresh weights. A sweep keeps one :class:`Finetuner` per
    worker instead, so the model is loaded once rather than per trial.
    """
    prepared = prepare_task(model_dir, task, spec, max_length=max_length, stride=stride,
                            splits=("train", "validation", "dev"))
    return Finetuner(model_dir, prepared, seed=seed, random_init=random_init).run(
        params, output_dir=output_dir, callbacks=callbacks, evaluations_per_epoch=evaluations_per_epoch)
