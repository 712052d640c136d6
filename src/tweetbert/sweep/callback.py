"""Reports a fine-tuning run's evaluation metric to its Optuna trial, epoch by epoch, and stops a pruned run.

optuna-integration 5 has no transformers callback, hence this one. It does not raise
:class:`optuna.TrialPruned` itself: an exception thrown from inside ``Trainer.train`` skips the trainer's own
clean-up (``on_train_end`` of every callback, logger runs left open, memory not released). It asks the trainer to
stop instead, and the objective raises after ``train`` has returned::

    report = OptunaReportCallback(trial, "f1")
    trainer = Trainer(..., args=TrainingArguments(..., eval_strategy="epoch"), callbacks=[report])
    trainer.train()
    report.raise_if_pruned()        # optuna.TrialPruned: the worker records the trial as PRUNED
    return trainer.evaluate()["eval_f1"]

The step reported is the epoch (1, 2, ...), not the optimiser step: trials differ in batch size, and pruners compare
trials at equal steps, so only epochs are comparable. Hence evaluation must happen once per epoch.
"""

from __future__ import annotations

import optuna
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments
from transformers.trainer_utils import IntervalStrategy


class OptunaReportCallback(TrainerCallback):
    """Reports ``metrics[metric_name]`` (or ``eval_<metric_name>``) after each epoch's evaluation."""

    def __init__(self, trial: optuna.trial.BaseTrial, metric_name: str):
        self.trial = trial
        self.metric_name = metric_name
        self.pruned_at: int | None = None  # the epoch after which the trial said to prune
        self._reported: set[int] = set()

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs):
        if args.eval_strategy != IntervalStrategy.EPOCH:
            raise ValueError(f"{type(self).__name__} reports once per epoch: set eval_strategy='epoch', "
                             f"not {args.eval_strategy!r}")

    def on_evaluate(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                    metrics: dict[str, float] | None = None, **kwargs):
        epoch = round(state.epoch or 0)
        if epoch in self._reported:  # a final trainer.evaluate() repeats the last epoch's evaluation
            return
        self._reported.add(epoch)
        self.trial.report(self._value(metrics or {}), step=epoch)
        finished = state.max_steps > 0 and state.global_step >= state.max_steps
        if not finished and self.trial.should_prune():  # a fully trained run is complete, whatever its rank
            self.pruned_at = epoch
            control.should_training_stop = True

    def raise_if_pruned(self) -> None:
        """Call after ``Trainer.train`` returns: Optuna records a trial as pruned when the objective raises this."""
        if self.pruned_at is not None:
            raise optuna.TrialPruned(f"pruned after epoch {self.pruned_at}")

    def _value(self, metrics: dict[str, float]) -> float:
        for key in (self.metric_name, f"eval_{self.metric_name}"):
            if key in metrics:
                return float(metrics[key])
        raise KeyError(f"metric {self.metric_name!r} is not among the evaluation metrics {sorted(metrics)}")
