"""Moving a pre-trained masked LM to a new vocabulary: shared tokens keep their trained rows, new ones are initialised.

Only the word embeddings (the decoder is tied to them) and the MLM output bias depend on the vocabulary; every
other weight is copied unchanged, so a text both tokenizers split into the same tokens gets the same hidden states
and the same logits on the shared tokens. A token is shared when the same string is in both vocabularies. New tokens:

- ``random``: N(0, initializer_range), output bias 0 — the reference study's choice.
- ``subword_mean``: the mean embedding and output bias of the base tokenizer's pieces of the token's string. A
  continuation ``##x`` is split into base continuation pieces by greedy longest match (what WordPiece does inside a
  word, without the base tokenizer's normalisation); when those cannot cover ``x``, ``x`` is tokenised as a word.
  ``[UNK]`` pieces are ignored; a token with no other piece is initialised as by ``random``.
- ``focus``: FOCUS (Dobler & de Melo, 2023) via ``deepfocus``: each new embedding is a sparsemax-weighted mean of
  shared tokens' embeddings, weighted by the similarity of fastText embeddings of the new vocabulary's tokens
  trained on target-domain ``texts``; output bias 0. deepfocus works offline, but its own fastText path caches the
  tokenised text under ``~/.cache/deepfocus`` keyed by the text file's *path* (a changed corpus at the same path
  reuses stale text) and trains multi-threaded (not reproducible). So we tokenise with the fast tokenizer, train
  fastText single-threaded (its seed is fixed) in a temporary directory, and pass deepfocus the model file.
  Tokens without a fastText vector get deepfocus' own fallback, N(mean, std) of the base embeddings.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch

from tweetbert.modeling.card import migrated_card, write_card

METHODS = ("random", "subword_mean", "focus")


# deepfocus' fastText settings, except 200k n-gram hash buckets instead of 2M (800 MB): Japanese WordPiece tokens are
# short, a 32k vocabulary has about 100k distinct character 3- to 6-grams.
FASTTEXT_SETTINGS = {"model": "cbow", "dim": 100, "neg": 10, "epoch": 3, "minCount": 10, "bucket": 200_000}


def shared_token_ids(base_tokenizer, new_tokenizer, base_rows: int) -> dict[int, int]:
    """New id -> base id of every token string in both vocabularies (base ids beyond the embedding rows excluded)."""
    base_vocab = base_tokenizer.get_vocab()
    return {new_id: base_vocab[token] for token, new_id in sorted(new_tokenizer.get_vocab().items(), key=lambda t: t[1])
            if token in base_vocab and base_vocab[token] < base_rows}


def _continuation_pieces(text: str, vocab: dict[str, int]) -> list[str] | None:
    """Greedy longest-match split of ``text`` into ``##`` pieces of ``vocab``; None when it cannot be covered."""
    pieces: list[str] = []
    start = 0
    while start < len(text):
        for end in range(len(text), start, -1):
            if f"##{text[start:end]}" in vocab:
                pieces.append(f"##{text[start:end]}")
                start = end
                break
        else:
            return None
    return pieces


def base_pieces(token: str, base_tokenizer, vocab: dict[str, int]) -> list[int]:
    """Base ids of the pieces the base tokenizer (vocabulary ``vocab``) makes of a new token's string, no ``[UNK]``."""
    pieces = None
    if token.startswith("##") and len(token) > 2:
        pieces = _continuation_pieces(token[2:], vocab)
        token = token[2:]
    if pieces is None:
        pieces = base_tokenizer.tokenize(token)
    return [vocab[piece] for piece in pieces if piece in vocab and piece != base_tokenizer.unk_token]


def _focus_embeddings(base_tokenizer, new_tokenizer, tokenizer_dir: Path, base_embeddings: torch.Tensor,
                      texts: Sequence[str], seed: int) -> torch.Tensor:
    """All rows of the new embedding matrix as deepfocus initialises them."""
    import fasttext
    from deepfocus import FOCUS

    from tweetbert.tokenization.fast import FastTokenizer

    names = new_tokenizer.convert_ids_to_tokens(list(range(len(new_tokenizer))))
    # fastText splits on whitespace, so a token containing it (the newline) cannot get a vector of its own.
    usable = [not any(char.isspace() for char in name) for name in names]
    with tempfile.TemporaryDirectory() as tmp:
        corpus, model_file = Path(tmp) / "tokens.txt", Path(tmp) / "fasttext.bin"
        with corpus.open("w", encoding="utf-8") as out:
            for ids in FastTokenizer(tokenizer_dir).encode(texts, add_special_tokens=False):
                out.write(" ".join(names[i] for i in ids if usable[i]) + "\n")
        fasttext.train_unsupervised(str(corpus), thread=1, verbose=0, **FASTTEXT_SETTINGS).save_model(
            str(model_file))
        return FOCUS(target_tokenizer=new_tokenizer, source_tokenizer=base_tokenizer,
                     source_embeddings=base_embeddings, fasttext_model_path=str(model_file), processes=1, seed=seed,
                     verbosity="silent")


def migrate_embeddings(
    base: str,
    tokenizer_dir: Path,
    out_dir: Path,
    *,
    method: str = "random",
    seed: int = 0,
    initializer_range: float | None = None,
    texts: Sequence[str] | None = None,
) -> dict:
    """Writes to ``out_dir`` the ``base`` model (hub id or directory) moved to the tokenizer in ``tokenizer_dir``.

    ``out_dir`` becomes a complete model directory (safetensors weights and the new tokenizer). ``texts`` are
    target-domain texts, needed by ``focus`` only. Returns the vocabulary counts also written to
    ``out_dir/migration.json``.
    """
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    if method not in METHODS:
        raise ValueError(f"unknown embedding initialisation {method!r}; choose one of {', '.join(METHODS)}")
    if method == "focus" and not texts:
        raise ValueError("focus needs target-domain texts to train its fastText token embeddings (texts=...)")
    model = AutoModelForMaskedLM.from_pretrained(base)
    base_tokenizer = AutoTokenizer.from_pretrained(base)
    new_tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    base_embeddings = model.get_input_embeddings().weight.detach().float().clone()
    base_bias = model.get_output_embeddings().bias.detach().float().clone()
    shared = shared_token_ids(base_tokenizer, new_tokenizer, base_embeddings.shape[0])
    n_new = len(new_tokenizer)

    generator = torch.Generator().manual_seed(seed)
    std = initializer_range if initializer_range is not None else model.config.initializer_range
    embeddings = torch.normal(0.0, std, (n_new, base_embeddings.shape[1]), generator=generator)
    bias = torch.zeros(n_new)
    if method == "subword_mean":
        base_vocab = base_tokenizer.get_vocab()
        for new_id, token in enumerate(new_tokenizer.convert_ids_to_tokens(list(range(n_new)))):
            pieces = [] if new_id in shared else base_pieces(token, base_tokenizer, base_vocab)
            if pieces:
                embeddings[new_id] = base_embeddings[pieces].mean(0)
                bias[new_id] = base_bias[pieces].mean()
    elif method == "focus":
        embeddings = _focus_embeddings(base_tokenizer, new_tokenizer, Path(tokenizer_dir), base_embeddings, texts,
                                       seed).float()
    new_ids, base_ids = list(shared), list(shared.values())
    embeddings[new_ids] = base_embeddings[base_ids]
    bias[new_ids] = base_bias[base_ids]

    model.resize_token_embeddings(n_new, mean_resizing=False)
    with torch.no_grad():
        model.get_input_embeddings().weight.copy_(embeddings)
        model.get_output_embeddings().bias.copy_(bias)
    model.get_input_embeddings().padding_idx = new_tokenizer.pad_token_id
    model.config.pad_token_id = new_tokenizer.pad_token_id
    if model.get_output_embeddings().weight is not model.get_input_embeddings().weight:
        raise RuntimeError(f"{base}: the MLM decoder is not tied to the word embeddings; migration assumes it is")

    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    new_tokenizer.save_pretrained(out_dir)
    counts = {
        "method": method,
        "base_vocab": len(base_tokenizer),
        "new_vocab": n_new,
        "shared": len(shared),
        "new": n_new - len(shared),
        "shared_percent": round(100 * len(shared) / n_new, 2),
    }
    (out_dir / "migration.json").write_text(json.dumps(counts, indent=2) + "\n", encoding="utf-8")
    # The tokenizer lives in tokenizer/<corpus>/tokenizer: its parent names the corpus the vocabulary came from.
    write_card(out_dir, migrated_card(base, Path(tokenizer_dir).parent.name, counts))
    return counts
