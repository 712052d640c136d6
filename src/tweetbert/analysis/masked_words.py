"""Which token to mask so that models with different vocabularies predict the same word, and what they predict.

Both probes that mask a token (top-K accuracy, the acceptability kit) ask a model to restore one *word*. A token
qualifies when it is a whole word in the model's tokenization (not a ``##`` piece, not followed by one), holds a
letter or digit (punctuation and emoji are too easy or too arbitrary to score) and is not a special token. Comparing
two models is only fair on words that *both* tokenize as one token, so the shared targets pair the n-th occurrence
of a word in one tokenization with its n-th occurrence in the other.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

SUBWORD_PREFIX = "##"


@dataclass
class MaskedLM:
    """A masked language model with its tokenizer, ready for inference on the best device there is."""

    name: str
    tokenizer: Any
    model: torch.nn.Module

    @classmethod
    def load(cls, name: str, location: str | Path) -> MaskedLM:
        from transformers import AutoModelForMaskedLM, AutoTokenizer

        device = "cuda" if torch.cuda.is_available() else "cpu"
        tokenizer = AutoTokenizer.from_pretrained(str(location))
        model = AutoModelForMaskedLM.from_pretrained(str(location), use_safetensors=True).to(device).eval()
        return cls(name, tokenizer, model)

    @property
    def special(self) -> frozenset[str]:
        return frozenset(self.tokenizer.all_special_tokens) | frozenset(self.tokenizer.get_added_vocab())

    def tokens(self, text: str, max_length: int) -> list[str]:
        """The text's tokens, cut so that they fit ``max_length`` with [CLS] and [SEP]."""
        return self.tokenizer.tokenize(text)[:max_length - 2]

    def ids(self, tokens: Sequence[str]) -> list[int]:
        """Input ids of already-split tokens, framed by [CLS] ... [SEP] (so a token at i sits at i + 1)."""
        tokenizer = self.tokenizer
        return [tokenizer.cls_token_id, *tokenizer.convert_tokens_to_ids(list(tokens)), tokenizer.sep_token_id]

    def logits(self, token_ids: Sequence[Sequence[int]], positions: Sequence[int],
               batch_size: int = 64) -> Iterator[torch.Tensor]:
        return masked_logits(self.model, token_ids, positions, mask_id=self.tokenizer.mask_token_id,
                             pad_id=self.tokenizer.pad_token_id, batch_size=batch_size)


def is_word_token(token: str, special: frozenset[str]) -> bool:
    """Whether a vocabulary entry can stand as a word: not special, not a piece, with a letter or digit."""
    if token in special or token.startswith(SUBWORD_PREFIX):
        return False
    return any(unicodedata.category(char)[0] in "LN" for char in token)


def whole_word_positions(tokens: Sequence[str], special: frozenset[str]) -> list[int]:
    """Positions of tokens that are whole words: word tokens not continued by a ``##`` piece."""
    positions = []
    for i, token in enumerate(tokens):
        continued = i + 1 < len(tokens) and tokens[i + 1].startswith(SUBWORD_PREFIX)
        if not continued and is_word_token(token, special):
            positions.append(i)
    return positions


def _occurrences(tokens: Sequence[str], special: frozenset[str]) -> dict[tuple[str, int], int]:
    """(word, n-th occurrence among the whole words) -> position."""
    seen: dict[str, int] = {}
    out = {}
    for position in whole_word_positions(tokens, special):
        word = tokens[position]
        out[(word, seen.get(word, 0))] = position
        seen[word] = seen.get(word, 0) + 1
    return out


@dataclass(frozen=True)
class Target:
    """One word to mask: the same occurrence of ``word`` at ``positions[m]`` in model m's tokens."""

    word: str
    occurrence: int
    positions: tuple[int, ...]


def shared_targets(tokenizations: Sequence[Sequence[str]], specials: Sequence[frozenset[str]]) -> list[Target]:
    """Whole words that every tokenization holds as one token, in the order of the first tokenization."""
    maps = [_occurrences(tokens, special) for tokens, special in zip(tokenizations, specials, strict=True)]
    first = sorted(maps[0].items(), key=lambda item: item[1])
    return [Target(word, n, tuple(m[(word, n)] for m in maps))
            for (word, n), _ in first if all((word, n) in m for m in maps)]


def pick(targets: Sequence[Target], seed: int, example: int) -> Target:
    """A target drawn per example from (seed, example), so adding examples never changes earlier picks."""
    return targets[int(np.random.default_rng([seed, example]).integers(len(targets)))]


@torch.inference_mode()
def masked_logits(model: torch.nn.Module, token_ids: Sequence[Sequence[int]], positions: Sequence[int], *,
                  mask_id: int, pad_id: int, batch_size: int = 64) -> Iterator[torch.Tensor]:
    """The vocabulary logits at each example's masked position, one batch of rows at a time (float32, on CPU).

    ``token_ids`` include the special tokens around the text; the token at ``positions[i]`` is replaced by
    ``mask_id`` before the forward pass.
    """
    device = next(model.parameters()).device
    model.eval()
    for start in range(0, len(token_ids), batch_size):
        batch = token_ids[start:start + batch_size]
        where = positions[start:start + batch_size]
        width = max(len(ids) for ids in batch)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        for row, (sequence, position) in enumerate(zip(batch, where)):
            ids[row, :len(sequence)] = torch.tensor(sequence)
            attention[row, :len(sequence)] = 1
            ids[row, position] = mask_id
        logits = model(input_ids=ids.to(device), attention_mask=attention.to(device)).logits
        rows = torch.arange(len(batch), device=device)
        yield logits[rows, torch.tensor(where, device=device)].float().cpu()


def gold_ranks(logits: torch.Tensor, gold: Sequence[int]) -> np.ndarray:
    """0-based rank of each gold id among its row's logits (ties count in the gold id's favour)."""
    gold_scores = logits[torch.arange(len(gold)), torch.tensor(gold)]
    return (logits > gold_scores[:, None]).sum(dim=1).numpy()
