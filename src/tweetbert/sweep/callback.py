"""Reports a fine-tuning run's validation metric to its Optuna trial after each evaluation, and stops a pruned run.

optuna-integration 5 has no transformers callback, hence this one. It does not raise
:class:`optuna.TrialPruned` itself: an exception thrown from inside ``Trainer.train`` skips the trainer's own
clean-up (``on_train_end`` of every callback, logger runs left open, memory not released). It asks the trainer to
stop instead, and the objective raises after ``train`` has returned::

    report = OptunaReportCallback(trial, "f1", evaluations_per_epoch=4)
    result = finetune(..., callbacks=[report], evaluations_per_epoch=4)
    report.raise_if_pruned()        # optuna.TrialPruned: the worker records the trial as PRUNED
    return result["objective"]

The step reported is the evaluation's index k = 1, 2, ...: the number of whole ``1/evaluations_per_epoch``
fractions of an epoch trained on, not the optimiser step. Trials differ in batch size, and pruners compare trials
at equal steps, so only equal shares of the data are comparable. Evaluation must happen at those fractions: once
per epoch (``eval_strategy="epoch"``), and within the epoch as :func:`tweetbert.finetune.train.finetune` does.
"""

from __future__ import annotations

import math

import optuna
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments
from transformers.trainer_utils import IntervalStrategy


class OptunaReportCallback(TrainerCallback):
    """Reports ``metrics[metric_name]`` (or ``eval_<metric_name>``) after each evaluation during training."""

    def __init__(self, trial: optuna.trial.BaseTrial, metric_name: str, evaluations_per_epoch: int = 1):
        if isinstance(evaluations_per_epoch, bool) or not isinstance(evaluations_per_epoch, int) \
                or evaluations_per_epoch < 1:
            raise ValueError(f"evaluations_per_epoch must be a positive integer, got {evaluations_per_epoch!r}")
        self.trial = trial
        self.metric_name = metric_name
        self.evaluations_per_epoch = evaluations_per_epoch
        self.pruned_at: int | None = None  # the evaluation after which the trial said to prune
        self._reported: set[int] = set()

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs):
        if args.eval_strategy != IntervalStrategy.EPOCH:
            raise ValueError(f"{type(self).__name__} needs every epoch's end scored: set eval_strategy='epoch', "
                             f"not {args.eval_strategy!r}")

    def on_evaluate(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                    metrics: dict[str, float] | None = None, **kwargs):
        evaluation = math.floor((state.epoch or 0) * self.evaluations_per_epoch + 1e-9)
        if evaluation in self._reported:  # a final trainer.evaluate() repeats the last evaluation
            return
        self._reported.add(evaluation)
        self.trial.report(self._value(metrics or {}), step=evaluation)
        finished = state.max_steps > 0 and state.global_step >= state.max_steps
        if not finished and self.trial.should_prune():  # a fully trained run is complete, whatever its rank
            self.pruned_at = evaluation
            control.should_training_stop = True

    def raise_if_pruned(self) -> None:
        """Call after ``Trainer.train`` returns: Optuna records a trial as pruned when the objective raises this."""
        if self.pruned_at is not None:
            raise optuna.TrialPruned(f"pruned after evaluation {self.pruned_at} "
                                     f"({self.evaluations_per_epoch} per epoch)")

    def _value(self, metrics: dict[str, float]) -> float:
        for key in (self.metric_name, f"eval_{self.metric_name}"):
            if key in metrics:
                return float(metrics[key])
        raise KeyError(f"metric {self.metric_name!r} is not among the evaluation metrics {sorted(metrics)}")
