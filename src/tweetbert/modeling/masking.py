"""Whole-word masking for BERT's MLM objective, with words taken from the WordPiece ``##`` continuation marks.

transformers 5 infers words from character offsets, which the MeCab-based Japanese tokenizer cannot give, and
offset gaps would merge unspaced Japanese words anyway. The vocabulary itself says where words are: a word is a
token without the ``##`` prefix followed by its ``##`` pieces. Each word is chosen with probability
``mlm_probability`` (so each token is masked at that rate in expectation), and every token of a chosen word gets
BERT's treatment on its own: 80 % ``[MASK]``, 10 % a random non-special token, 10 % unchanged (as in Google's
``create_pretraining_data.py``). Special tokens (``[CLS]``, ``[SEP]``, ``[UNK]``, ``[URL]``, ``[USER]``, the
newline, padding) are never masked and end a word.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch

IGNORE_INDEX = -100
MASK_SHARE = 0.8
RANDOM_SHARE = 0.1


class WholeWordMasking:
    """Pads a list of id sequences (dynamic padding, to the longest) and masks them; the generator makes it exact."""

    def __init__(self, tokens: Sequence[str], special_ids: Iterable[int], *, mask_id: int, pad_id: int,
                 mlm_probability: float = 0.15, whole_word: bool = True):
        if not 0 < mlm_probability < 1:
            raise ValueError(f"mlm_probability must be in (0, 1), got {mlm_probability}")
        self.mask_id = mask_id
        self.pad_id = pad_id
        self.mlm_probability = mlm_probability
        self.whole_word = whole_word
        self.is_special = torch.zeros(len(tokens), dtype=torch.bool)
        self.is_special[sorted(set(special_ids))] = True
        self.is_continuation = torch.tensor([token.startswith("##") for token in tokens]) & ~self.is_special
        self.replacement_ids = (~self.is_special).nonzero().squeeze(1)

    @classmethod
    def from_tokenizer(cls, tokenizer, **kwargs) -> WholeWordMasking:
        """Built from a loaded tokenizer: its tokens (added ones included) and its special ids."""
        tokens = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
        return cls(tokens, tokenizer.all_special_ids, mask_id=tokenizer.mask_token_id,
                   pad_id=tokenizer.pad_token_id, **kwargs)

    def pad(self, sequences: Sequence[Sequence[int]], width: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """``input_ids`` and ``attention_mask`` padded to the longest sequence, or to ``width`` if wider."""
        lengths = np.fromiter((len(ids) for ids in sequences), dtype=np.int64, count=len(sequences))
        input_ids = np.full((len(sequences), max(int(lengths.max()), width)), self.pad_id, dtype=np.int64)
        for row, ids in enumerate(sequences):
            input_ids[row, : lengths[row]] = ids
        attention_mask = np.arange(input_ids.shape[1]) < lengths[:, None]
        return torch.from_numpy(input_ids), torch.from_numpy(attention_mask.astype(np.int64))

    def word_index(self, input_ids: torch.Tensor, special: torch.Tensor) -> torch.Tensor:
        """Per token, the index of its word within the row (every token its own word without whole-word masking)."""
        if not self.whole_word:
            return torch.arange(input_ids.shape[1]).expand_as(input_ids)
        after_special = torch.nn.functional.pad(special[:, :-1], (1, 0), value=True)
        starts = ~self.is_continuation[input_ids] | special | after_special
        return starts.long().cumsum(1) - 1

    def mask(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
             generator: torch.Generator) -> dict[str, torch.Tensor]:
        """Masked ``input_ids`` and ``labels`` (original ids at chosen positions, -100 elsewhere)."""
        special = self.is_special[input_ids] | ~attention_mask.bool()
        word_chosen = torch.rand(input_ids.shape, generator=generator) < self.mlm_probability
        chosen = word_chosen.gather(1, self.word_index(input_ids, special)) & ~special
        action = torch.rand(input_ids.shape, generator=generator)
        replacement = self.replacement_ids[
            torch.randint(len(self.replacement_ids), input_ids.shape, generator=generator)]
        labels = torch.where(chosen, input_ids, IGNORE_INDEX)
        masked = torch.where(chosen & (action < MASK_SHARE), self.mask_id, input_ids)
        masked = torch.where(chosen & (action >= MASK_SHARE) & (action < MASK_SHARE + RANDOM_SHARE),
                             replacement, masked)
        return {"input_ids": masked, "attention_mask": attention_mask, "labels": labels}

    def __call__(self, sequences: Sequence[Sequence[int]], generator: torch.Generator, width: int = 0
                 ) -> dict[str, torch.Tensor]:
        return self.mask(*self.pad(sequences, width), generator)
