"""The largest training batch that fits on this GPU, measured rather than guessed.

Memory depends on the model, the sequence length, the optimiser state and the attention kernel, so the batch is
found by trying: full training steps (bf16 forward, backward, AdamW) on batches of ``max_seq_length`` tokens, the
worst case of dynamic padding, doubling until one runs out of memory, then bisecting. A safety ``margin`` is taken
off the largest batch that fitted, for fragmentation and for DDP's gradient buckets. On a CPU there is nothing to
measure: the configured batch size is used.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from pathlib import Path

import torch

log = logging.getLogger(__name__)
MASKED_SHARE = 0.15  # positions the MLM head runs on, as in training


def largest_fitting(fits: Callable[[int], bool], *, start: int, limit: int) -> int:
    """Largest batch in [1, limit] for which ``fits`` holds, assuming it holds below some size and fails above.

    Doubles from ``start`` (halves when ``start`` already fails), then bisects between the last size that fitted
    and the first that did not.
    """
    if not 1 <= start <= limit:
        raise ValueError(f"need 1 <= start <= limit, got start={start}, limit={limit}")
    if fits(start):
        low = start
        while low * 2 <= limit and fits(low * 2):
            low *= 2
        high = min(low * 2, limit + 1)  # the smallest size known (or, past the limit, taken) not to fit
    else:
        high, low = start, start // 2
        while low >= 1 and not fits(low):
            high, low = low, low // 2
        if low == 0:
            raise RuntimeError("not even a batch of one sequence fits in memory")
    while high - low > 1:
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low


def with_margin(max_fitting: int, margin: float) -> int:
    """The batch to train with: ``(1 - margin)`` of the largest that fitted, at least one."""
    if not 0 <= margin < 1:
        raise ValueError(f"margin must be in [0, 1), got {margin}")
    return max(1, int(max_fitting * (1 - margin)))


def _cuda_step(model_dir: Path, max_seq_length: int) -> Callable[[int], bool]:
    """A ``fits(batch)`` that runs one training step of the real model on random tokens and reports OOM."""
    from transformers import AutoModelForMaskedLM

    from tweetbert.modeling.pretrain_model import MaskedOnlyMLM, decay_groups

    device = torch.device("cuda")
    model = AutoModelForMaskedLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="sdpa")
    wrapper = MaskedOnlyMLM(model.to(device)).train()
    optimizer = torch.optim.AdamW(decay_groups(model, 0.01), lr=1e-5)
    vocab_size = model.config.vocab_size
    generator = torch.Generator().manual_seed(0)
    bf16 = torch.cuda.is_bf16_supported()  # as in training

    def fits(batch: int) -> bool:
        out_of_memory = False
        try:
            input_ids = torch.randint(vocab_size, (batch, max_seq_length), generator=generator).to(device)
            attention_mask = torch.ones_like(input_ids)
            n_masked = max(1, int(MASKED_SHARE * input_ids.numel()))
            positions = torch.randperm(input_ids.numel(), generator=generator)[:n_masked].to(device)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
                loss = wrapper(input_ids, attention_mask, positions, input_ids.flatten()[positions]) / n_masked
            loss.backward()
            optimizer.step()
            torch.cuda.synchronize()
        except torch.cuda.OutOfMemoryError:
            out_of_memory = True
        # Freed outside the except block: the exception's traceback holds the step's tensors.
        optimizer.zero_grad(set_to_none=True)
        gc.collect()
        torch.cuda.empty_cache()
        log.info("batch %d x %d tokens: %s", batch, max_seq_length, "out of memory" if out_of_memory else "fits")
        return not out_of_memory

    return fits


def calibrate_batch_size(model_dir: Path, max_seq_length: int, *, margin: float = 0.1, start: int = 8,
                         limit: int = 4096) -> dict:
    """The per-GPU batch size for ``max_seq_length``; ``batch_size`` None on a CPU means "use the configured one"."""
    if not torch.cuda.is_available():
        return {"device": "cpu", "batch_size": None, "max_fitting": None, "max_seq_length": max_seq_length,
                "peak_memory_gb": None}
    fits = _cuda_step(Path(model_dir), max_seq_length)
    max_fitting = largest_fitting(fits, start=start, limit=limit)
    batch_size = with_margin(max_fitting, margin)
    torch.cuda.reset_peak_memory_stats()
    fits(batch_size)
    return {"device": torch.cuda.get_device_name(), "batch_size": batch_size, "max_fitting": max_fitting,
            "max_seq_length": max_seq_length, "peak_memory_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2)}
