"""The model side of pre-training: the masked-only MLM loss, the model as loaded, the optimiser and its schedule.

``BertForMaskedLM`` runs with SDPA attention, wrapped by :class:`MaskedOnlyMLM` so the vocabulary projection runs
at the masked positions only; AdamW without decay on biases and LayerNorm weights, linear warm-up then linear decay
to 0, gradient norm clipped to :data:`MAX_GRAD_NORM`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from tweetbert.errors import ConfigError

if TYPE_CHECKING:
    from tweetbert.modeling.settings import PretrainSettings

MAX_GRAD_NORM = 1.0
COMPILE_PAD_MULTIPLE = 16  # compiled encoder: batch widths rounded up to this, so a handful of shapes
COMPILE_SHAPES = 64  # graphs the compiled encoder may keep: widths x (full, last batch) x (train, eval)


class MaskedOnlyMLM(torch.nn.Module):
    """BertForMaskedLM's loss with the MLM head applied only where there is a label.

    The head's vocabulary projection costs about as much as the whole encoder of a small model, and only ~15 % of
    the positions have a label. Returns the summed cross-entropy, so callers can average over all processes' masks.
    Being one module, DDP sees the encoder and the head in one forward.
    """

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        if not (hasattr(model, "bert") and hasattr(model, "cls")):
            raise TypeError(f"expected a BertForMaskedLM, got {type(model).__name__}")
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, positions: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        hidden = self.model.bert(input_ids=input_ids, attention_mask=attention_mask)[0]
        logits = self.model.cls(hidden.flatten(0, 1).index_select(0, positions))
        return torch.nn.functional.cross_entropy(logits.float(), labels, reduction="sum")


def load_model(model_dir: Path) -> torch.nn.Module:
    """The model in float32 (bf16 only inside autocast) with PyTorch's fused attention."""
    from transformers import AutoModelForMaskedLM

    return AutoModelForMaskedLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="sdpa")


def decay_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Parameter groups: weight decay on weight matrices and embeddings, none on biases and LayerNorm weights."""
    layer_norm = {id(p) for module in model.modules() if isinstance(module, torch.nn.LayerNorm)
                  for p in module.parameters(recurse=False)}
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            (no_decay if id(parameter) in layer_norm or name.endswith("bias") else decay).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def make_optimizer(model: torch.nn.Module, settings: PretrainSettings) -> torch.optim.AdamW:
    """AdamW over the decay groups; fused (one kernel for all parameters) when they are on a GPU."""
    on_cuda = next(model.parameters()).device.type == "cuda"
    return torch.optim.AdamW(decay_groups(model, settings.weight_decay), lr=settings.learning_rate,
                             betas=(settings.beta1, settings.beta2), eps=settings.epsilon,
                             fused=True if on_cuda else None)


def compile_encoder(model: torch.nn.Module) -> None:
    """``torch.compile`` of the encoder in place (parameter names, so checkpoints, unchanged).

    The MLM head stays eager: it runs on a different number of masked positions every step. The encoder sees
    batches padded to multiples of :data:`COMPILE_PAD_MULTIPLE`, so a few shapes (one graph each, in training and in
    evaluation mode), never one per length; the recompile limit is raised to hold them all.
    """
    import torch._dynamo

    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, COMPILE_SHAPES)
    model.bert.compile(dynamic=False)


def device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else device.type


def resolve_warmup(warmup_steps: float, total_steps: int) -> int:
    """Warm-up in steps: a fraction of ``total_steps`` (rounded up) or a step count, never past the run's end."""
    steps = math.ceil(warmup_steps * total_steps) if warmup_steps < 1 else int(warmup_steps)
    if steps >= total_steps:
        raise ConfigError("warmup_steps", f"{steps} warm-up steps, but the run has only {total_steps} optimizer "
                          "steps: the learning rate would never decay. Use fewer steps or a fraction in [0, 1)")
    return steps


def linear_schedule(optimizer: torch.optim.Optimizer, warmup: int, total: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Learning rate from 0 up to the peak over ``warmup`` steps, then linearly down to 0 at step ``total``."""
    from transformers import get_linear_schedule_with_warmup

    return get_linear_schedule_with_warmup(optimizer, warmup, total)
