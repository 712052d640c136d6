"""A tiny general-domain Japanese BERT, so the demo adapts a genuinely pre-trained base model without downloads.

It stands in for the published Japanese BERT of the reference study: its own WordPiece vocabulary and MLM
pre-training on formal text, so the tweet vocabulary overlaps it only partly and the tweet register is new to it.
Everything is seeded (initial weights, batch order, masks), so the same seed gives the same weights.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch
from tqdm import tqdm

from tweetbert.tokenization.fast import FastTokenizer
from tweetbert.tokenization.train import count_words, joyo_kanji, save_japanese_tokenizer, train_wordpiece

CHAR_COVERAGE = 0.999
HELD_OUT_FRACTION = 0.05
MASK_PROBABILITY = 0.15
WARMUP_FRACTION = 0.1
EVAL_BATCH_SIZE = 128


def coverage_alphabet(counts: Counter, coverage: float = CHAR_COVERAGE) -> set[str]:
    """The most frequent characters that together make up ``coverage`` of all character occurrences."""
    chars: Counter = Counter()
    for word, count in counts.items():
        for char in word:
            chars[char] += count
    needed = coverage * sum(chars.values())
    alphabet: set[str] = set()
    covered = 0
    for char, count in sorted(chars.items(), key=lambda item: (-item[1], item[0])):
        if covered >= needed:
            break
        alphabet.add(char)
        covered += count
    return alphabet


class MaskedBatches:
    """Dynamic padding and BERT masking (15 %; of those 80 % [MASK], 10 % random token, 10 % unchanged)."""

    def __init__(self, pad_id: int, mask_id: int, vocab_size: int, special_ids: Sequence[int]):
        self.pad_id = pad_id
        self.mask_id = mask_id
        self.vocab_size = vocab_size
        self.special_ids = torch.tensor(sorted(set(special_ids)))

    def __call__(self, sequences: Sequence[Sequence[int]], generator: torch.Generator) -> dict[str, torch.Tensor]:
        width = max(len(ids) for ids in sequences)
        input_ids = torch.full((len(sequences), width), self.pad_id, dtype=torch.long)
        for row, ids in enumerate(sequences):
            input_ids[row, : len(ids)] = torch.tensor(ids)
        attention_mask = (torch.arange(width) < torch.tensor([len(ids) for ids in sequences])[:, None]).long()
        maskable = attention_mask.bool() & ~torch.isin(input_ids, self.special_ids)
        shape = input_ids.shape
        chosen = (torch.rand(shape, generator=generator) < MASK_PROBABILITY) & maskable
        action = torch.rand(shape, generator=generator)
        random_ids = torch.randint(self.vocab_size, shape, generator=generator)
        labels = torch.where(chosen, input_ids, -100)
        inputs = torch.where(chosen & (action < 0.8), self.mask_id, input_ids)
        inputs = torch.where(chosen & (action >= 0.8) & (action < 0.9), random_ids, inputs)
        return {"input_ids": inputs, "attention_mask": attention_mask, "labels": labels}


def _batch_indices(n: int, batch_size: int, generator: torch.Generator) -> Iterator[list[int]]:
    """Endless batches of line indices, reshuffled every epoch."""
    while True:
        order = torch.randperm(n, generator=generator).tolist()
        for start in range(0, n - batch_size + 1, batch_size):
            yield order[start : start + batch_size]


@torch.no_grad()
def _mlm_loss(model: torch.nn.Module, batches: Sequence[dict[str, torch.Tensor]]) -> float:
    """Mean cross-entropy per masked token, without dropout."""
    model.eval()
    total, count = 0.0, 0
    for batch in batches:
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        total += torch.nn.functional.cross_entropy(
            logits.flatten(0, 1), batch["labels"].flatten(), ignore_index=-100, reduction="sum").item()
        count += int((batch["labels"] != -100).sum())
    model.train()
    return total / count


def _train(model: torch.nn.Module, train_ids: Sequence[Sequence[int]], collate: MaskedBatches, steps: int,
           batch_size: int, learning_rate: float, seed: int) -> None:
    """Plain MLM with AdamW, linear warm-up and decay; batch order and masks from one seeded generator."""
    from transformers import get_linear_schedule_with_warmup

    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, round(WARMUP_FRACTION * steps), steps)
    generator = torch.Generator().manual_seed(seed)
    batches = _batch_indices(len(train_ids), batch_size, generator)
    model.train()
    progress = tqdm(range(steps), desc="demo base MLM", unit="step", mininterval=2.0)
    for _ in progress:
        batch = collate([train_ids[i] for i in next(batches)], generator)
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        progress.set_postfix(loss=f"{loss.item():.3f}", refresh=False)


def build_demo_base_model(
    general_text: Path,
    out_dir: Path,
    *,
    vocab_size: int = 6000,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 2,
    intermediate_size: int = 256,
    max_position: int = 128,
    steps: int = 300,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    seed: int = 0,
    threads: int = 1,
) -> dict:
    """Trains a vocabulary and an MLM on ``general_text`` (one text per line) into a model directory.

    Returns the metrics also written to ``out_dir/metrics.json``: MLM loss on a held-out 5 % of the lines before
    and after training (same masks both times), steps and seconds. ``threads`` are torch's intra-op threads while
    training: a model this small gains little from more, and with the cores shared by other jobs two threads were
    measured 20 times slower than one. The same seed and thread count give the same weights.
    """
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

    started = time.perf_counter()
    out_dir = Path(out_dir)
    lines = [line for line in Path(general_text).read_text(encoding="utf-8").splitlines() if line.strip()]
    split = torch.randperm(len(lines), generator=torch.Generator().manual_seed(seed)).tolist()
    n_held_out = max(1, round(HELD_OUT_FRACTION * len(lines)))
    held_out = [lines[i] for i in sorted(split[:n_held_out])]
    train = [lines[i] for i in sorted(split[n_held_out:])]
    if len(train) < batch_size:
        raise ValueError(f"{general_text}: {len(train)} training lines, fewer than one batch of {batch_size}")

    counts = count_words(train, n_texts=len(train))
    vocab = train_wordpiece(counts, vocab_size, sorted(coverage_alphabet(counts) | joyo_kanji()))
    save_japanese_tokenizer(vocab, out_dir)
    tokenizer = AutoTokenizer.from_pretrained(out_dir)
    encoder = FastTokenizer(out_dir)

    def encode(texts: list[str]) -> list[list[int]]:
        return [ids[: max_position - 1] + ids[-1:] if len(ids) > max_position else ids for ids in encoder.encode(texts)]

    train_ids, held_out_ids = encode(train), encode(held_out)
    collate = MaskedBatches(tokenizer.pad_token_id, tokenizer.mask_token_id, len(tokenizer), tokenizer.all_special_ids)
    eval_generator = torch.Generator().manual_seed(seed + 1)
    eval_batches = [collate(held_out_ids[i : i + EVAL_BATCH_SIZE], eval_generator)
                    for i in range(0, len(held_out_ids), EVAL_BATCH_SIZE)]

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_position,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = BertForMaskedLM(config)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        initial_loss = _mlm_loss(model, eval_batches)
        _train(model, train_ids, collate, steps, batch_size, learning_rate, seed)
        final_loss = _mlm_loss(model, eval_batches)
    finally:
        torch.set_num_threads(previous_threads)

    model.save_pretrained(out_dir)
    metrics = {
        "initial_loss": initial_loss,
        "final_loss": final_loss,
        "steps": steps,
        "seconds": round(time.perf_counter() - started, 2),
        "vocab_size": len(tokenizer),
        "train_lines": len(train),
        "held_out_lines": len(held_out),
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return metrics
