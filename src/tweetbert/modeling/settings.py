"""The modelling stages' settings, defaults from the config schema.

Kept apart from the stages (torch, transformers) so the workflow and the CLI read them cheaply, and so the
pre-training modules import their settings from here instead of from each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from tweetbert.errors import ConfigError
from tweetbert.settings import mirrors, setting

# Settings whose value the job reads from an upstream file (or takes as a number): --batch-size, --max-seq-length.
DERIVED_PRETRAIN_SETTINGS = ("batch_size", "max_seq_length")


@dataclass(frozen=True)
@mirrors("pretrain.fixed")
class PretrainSettings:
    """Hyper-parameters of one candidate; all of them identify the run (a checkpoint resumes only the same ones).

    ``batch_size`` and ``max_seq_length`` are derived by the workflow (``auto``, ``histogram`` in the schema), so
    their defaults here serve only callers of :func:`tweetbert.modeling.pretrain.pretrain` itself.
    """

    learning_rate: float = setting()
    weight_decay: float = setting()
    epochs: int = setting()
    beta1: float = setting()
    beta2: float = setting()
    epsilon: float = setting()
    batch_size: int = setting(32)  # per process
    max_seq_length: int = setting(128)
    warmup_steps: float = setting()  # >= 1: steps; in [0, 1): fraction of the total steps
    mlm_probability: float = setting()
    whole_word_mask: bool = setting()
    seed: int = setting(key="seed")
    eval_every: int = setting()
    eval_examples: int | None = setting()  # validation texts scored per evaluation, a seeded sample; None: all
    eval_batch_size: int | None = setting()  # None: 4 x batch_size
    save_every: int | None = setting()  # steps between checkpoints; None: by the clock only
    save_every_minutes: float | None = setting()  # None: by steps only
    early_stopping_patience: int | None = setting()  # evaluations without improvement; None: off
    epoch_checkpoints: bool = setting()  # also a model directory at the end of every epoch reached
    compile: bool = setting()  # torch.compile the encoder, batches padded to multiples of COMPILE_PAD_MULTIPLE

    def __post_init__(self) -> None:
        """A ConfigError naming the first bad key (and listing every problem), not a traceback from deep in training."""
        problems: list[tuple[str, str]] = []
        if not self.learning_rate > 0:
            problems.append(("learning_rate", f"learning_rate must be positive, got {self.learning_rate}"))
        if self.weight_decay < 0:
            problems.append(("weight_decay", f"weight_decay must be >= 0, got {self.weight_decay}"))
        for name in ("beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                problems.append((name, f"{name} must be in [0, 1), got {getattr(self, name)}"))
        if not self.epsilon > 0:
            problems.append(("epsilon", f"epsilon must be positive, got {self.epsilon}"))
        for name in ("epochs", "batch_size", "eval_every"):
            if getattr(self, name) < 1:
                problems.append((name, f"{name} must be at least 1, got {getattr(self, name)}"))
        for name in ("eval_examples", "eval_batch_size", "save_every"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                problems.append((name, f"{name} must be None or at least 1, got {getattr(self, name)}"))
        if self.save_every_minutes is not None and not self.save_every_minutes > 0:
            problems.append(("save_every_minutes",
                             f"save_every_minutes must be None or positive, got {self.save_every_minutes}"))
        if self.max_seq_length < 3:
            problems.append(("max_seq_length", ("max_seq_length must leave room for [CLS], a token and [SEP], got "
                                                f"{self.max_seq_length}")))
        if self.warmup_steps < 0 or (self.warmup_steps >= 1 and self.warmup_steps != int(self.warmup_steps)):
            problems.append(("warmup_steps", ("warmup_steps must be a whole number of steps or a fraction in [0, 1), "
                                              f"got {self.warmup_steps}")))
        if not 0 < self.mlm_probability < 1:
            problems.append(("mlm_probability", f"mlm_probability must be in (0, 1), got {self.mlm_probability}"))
        if self.early_stopping_patience is not None and self.early_stopping_patience < 1:
            problems.append(("early_stopping_patience", ("early_stopping_patience must be None or at least 1, got "
                                                         f"{self.early_stopping_patience}")))
        if problems:
            raise ConfigError(f"{self.config_section}.{problems[0][0]}", "; ".join(text for _, text in problems))


@dataclass(frozen=True)
@mirrors("migrate")
class MigrateSettings:
    method: str = setting()  # initialisation of tokens the base vocabulary lacks
    initializer_range: float | None = setting()  # None: the base config's
    seed: int = setting(key="seed")
