"""Embedding migration to a new vocabulary (shared tokens keep exactly what the base model computes for them; new
rows initialised per method; everything else untouched), on the demo base model, which is first checked to load
offline, learn and rebuild identically."""

import json
import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tweetbert.corpus.normalize import normalize_texts
from tweetbert.demo import generate_general_text, generate_tweets
from tweetbert.demo.base_model import build_demo_base_model, coverage_alphabet
from tweetbert.modeling.migrate import base_pieces, migrate_embeddings
from tweetbert.tokenization.train import count_words, joyo_kanji, save_japanese_tokenizer, train_wordpiece

os.environ["HF_HUB_OFFLINE"] = "1"

BASE_SETTINGS = {"vocab_size": 4000, "steps": 40, "learning_rate": 3e-3, "seed": 3}
VOCAB_KEYS = {"bert.embeddings.word_embeddings.weight", "cls.predictions.bias", "cls.predictions.decoder.weight",
              "cls.predictions.decoder.bias"}


def _load(model_dir: Path):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    return AutoModelForMaskedLM.from_pretrained(model_dir).eval(), AutoTokenizer.from_pretrained(model_dir)


@pytest.fixture(scope="module")
def general_text(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("general") / "general.txt"
    path.write_text("\n".join(generate_general_text(2500, seed=0)) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory, general_text) -> Path:
    out = tmp_path_factory.mktemp("base")
    build_demo_base_model(general_text, out, **BASE_SETTINGS)
    return out


@pytest.fixture(scope="module")
def tweet_texts() -> list[str]:
    tweets, _ = generate_tweets(3000, seed=5)
    return normalize_texts(tweets["text"].tolist())


@pytest.fixture(scope="module")
def tweet_tokenizer(tmp_path_factory, tweet_texts) -> Path:
    counts = count_words(tweet_texts)
    out = tmp_path_factory.mktemp("tweet_tok")
    save_japanese_tokenizer(train_wordpiece(counts, 4500, sorted(coverage_alphabet(counts) | joyo_kanji())), out)
    return out


@pytest.fixture(scope="module")
def migrated(tmp_path_factory, base_dir, tweet_tokenizer, tweet_texts) -> dict[str, Path]:
    out = {}
    for method in ("random", "subword_mean", "focus"):
        out[method] = tmp_path_factory.mktemp(method)
        migrate_embeddings(str(base_dir), tweet_tokenizer, out[method], method=method, seed=7, texts=tweet_texts)
    return out


@pytest.fixture(scope="module")
def vocabularies(base_dir, tweet_tokenizer):
    from transformers import AutoTokenizer

    base_vocab = AutoTokenizer.from_pretrained(base_dir).get_vocab()
    new_vocab = AutoTokenizer.from_pretrained(tweet_tokenizer).get_vocab()
    shared = sorted(set(base_vocab) & set(new_vocab), key=new_vocab.__getitem__)
    return base_vocab, new_vocab, shared


def test_demo_base_model_loads_offline_learns_and_is_safetensors(base_dir):
    model, tokenizer = _load(base_dir)
    assert type(model).__name__ == "BertForMaskedLM" and type(tokenizer).__name__ == "BertJapaneseTokenizer"
    assert model.config.vocab_size == len(tokenizer)
    assert model.get_output_embeddings().weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()
    assert (base_dir / "model.safetensors").exists()
    assert not list(base_dir.glob("*.bin")) and not list(base_dir.glob("*.pt*"))
    metrics = json.loads((base_dir / "metrics.json").read_text())
    assert metrics["steps"] == BASE_SETTINGS["steps"]
    assert metrics["final_loss"] < metrics["initial_loss"] - 1.0, metrics


def test_demo_base_model_same_seed_gives_same_weights(base_dir, general_text, tmp_path):
    build_demo_base_model(general_text, tmp_path, **BASE_SETTINGS)
    assert (tmp_path / "vocab.txt").read_bytes() == (base_dir / "vocab.txt").read_bytes()
    first, second = load_file(base_dir / "model.safetensors"), load_file(tmp_path / "model.safetensors")
    assert first.keys() == second.keys()
    assert all(torch.equal(first[key], second[key]) for key in first)


def test_counts_are_written_and_correct(migrated, vocabularies):
    base_vocab, new_vocab, shared = vocabularies
    for method, out_dir in migrated.items():
        counts = json.loads((out_dir / "migration.json").read_text())
        assert counts == {"method": method, "base_vocab": len(base_vocab), "new_vocab": len(new_vocab),
                          "shared": len(shared), "new": len(new_vocab) - len(shared),
                          "shared_percent": round(100 * len(shared) / len(new_vocab), 2)}
    assert 0 < len(shared) < len(new_vocab)


def test_migrated_model_card_names_the_base_and_the_vocabulary_counts(base_dir, migrated, vocabularies):
    from huggingface_hub import ModelCard

    _, new_vocab, shared = vocabularies
    card = ModelCard.load(migrated["random"] / "README.md")
    assert card.data.base_model == str(base_dir) and card.data.language == "ja"
    assert card.data.hyperparameters["shared"] == len(shared)
    assert f"{len(shared):,} of its {len(new_vocab):,} entries" in card.text


def test_migrated_dir_is_a_complete_tied_model(migrated, tweet_tokenizer, tweet_texts):
    from transformers import AutoTokenizer

    model, tokenizer = _load(migrated["random"])
    original = AutoTokenizer.from_pretrained(tweet_tokenizer)
    assert model.config.vocab_size == len(tokenizer) == len(original)
    assert all(tokenizer.encode(text) == original.encode(text) for text in tweet_texts[:50])
    assert model.get_output_embeddings().weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()
    assert model.cls.predictions.decoder.bias.data_ptr() == model.cls.predictions.bias.data_ptr()


def test_migration_preserves_shared_rows_and_all_other_weights(base_dir, migrated, vocabularies):
    base_vocab, new_vocab, shared = vocabularies
    base = load_file(base_dir / "model.safetensors")
    base_rows, new_rows = [base_vocab[t] for t in shared], [new_vocab[t] for t in shared]
    for out_dir in migrated.values():
        weights = load_file(out_dir / "model.safetensors")
        assert weights.keys() == base.keys()
        assert all(torch.equal(weights[key], base[key]) for key in base if key not in VOCAB_KEYS)
        embeddings = weights["bert.embeddings.word_embeddings.weight"]
        assert torch.equal(embeddings[new_rows], base["bert.embeddings.word_embeddings.weight"][base_rows])
        assert torch.equal(weights["cls.predictions.bias"][new_rows], base["cls.predictions.bias"][base_rows])


def test_shared_tokens_get_the_base_models_logits(base_dir, migrated, vocabularies):
    base_model, base_tokenizer = _load(base_dir)
    base_vocab, new_vocab, shared = vocabularies
    for out_dir in migrated.values():
        model, tokenizer = _load(out_dir)
        # Sentences of shared words that both tokenizers keep whole, and natural sentences split the same way.
        words = [t for t in shared if t not in tokenizer.all_special_tokens and not t.startswith("##")
                 and base_tokenizer.tokenize(t) == tokenizer.tokenize(t) == [t]]
        words = sorted(words, key=lambda t: (-len(t), new_vocab[t]))[:120]
        texts = [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)] + generate_general_text(300, seed=9)
        same = [text for text in texts if base_tokenizer.tokenize(text) == tokenizer.tokenize(text)]
        assert len(same) >= 5
        with torch.no_grad():
            base_batch = base_tokenizer(same, return_tensors="pt", padding=True)
            new_batch = tokenizer(same, return_tensors="pt", padding=True)
            assert not torch.equal(base_batch["input_ids"], new_batch["input_ids"])  # the ids themselves moved
            base_logits = base_model(**base_batch).logits[..., [base_vocab[t] for t in shared]]
            new_logits = model(**new_batch).logits[..., [new_vocab[t] for t in shared]]
        mask = base_batch["attention_mask"].bool()
        torch.testing.assert_close(new_logits[mask], base_logits[mask], rtol=1e-5, atol=1e-5)


def test_random_rows_have_the_requested_spread_and_zero_bias(base_dir, tweet_tokenizer, vocabularies, tmp_path):
    _, new_vocab, shared = vocabularies
    new_rows = sorted(set(new_vocab.values()) - {new_vocab[t] for t in shared})
    migrate_embeddings(str(base_dir), tweet_tokenizer, tmp_path, method="random", seed=1, initializer_range=0.05)
    weights = load_file(tmp_path / "model.safetensors")
    rows = weights["bert.embeddings.word_embeddings.weight"][new_rows]
    assert rows.std().item() == pytest.approx(0.05, rel=0.05)
    assert abs(rows.mean().item()) < 0.005
    assert torch.all(weights["cls.predictions.bias"][new_rows] == 0)


def test_continuations_split_into_base_continuations(base_dir):
    from transformers import AutoTokenizer

    base_tokenizer = AutoTokenizer.from_pretrained(base_dir)
    vocab = base_tokenizer.get_vocab()
    first, second = sorted(t for t in vocab if t.startswith("##") and len(t) == 3)[:2]
    assert f"##{first[2]}{second[2]}" not in vocab
    assert base_pieces(f"##{first[2]}{second[2]}", base_tokenizer, vocab) == [vocab[first], vocab[second]]
    assert base_pieces("##\U0001F64F", base_tokenizer, vocab) == []  # only [UNK]


def test_subword_mean_is_the_mean_of_the_base_pieces(base_dir, migrated, vocabularies):
    from transformers import AutoTokenizer

    base_vocab, new_vocab, _ = vocabularies
    base_tokenizer = AutoTokenizer.from_pretrained(base_dir)
    base = load_file(base_dir / "model.safetensors")
    weights = load_file(migrated["subword_mean"] / "model.safetensors")
    base_embeddings = base["bert.embeddings.word_embeddings.weight"]
    embeddings = weights["bert.embeddings.word_embeddings.weight"]
    # A continuation the base vocabulary lacks, of a character it has as a word: the word's row.
    token = next(t for t in new_vocab if t.startswith("##") and t not in base_vocab and t[2:] in base_vocab)
    torch.testing.assert_close(embeddings[new_vocab[token]], base_embeddings[base_vocab[token[2:]]])
    torch.testing.assert_close(weights["cls.predictions.bias"][new_vocab[token]],
                               base["cls.predictions.bias"][base_vocab[token[2:]]])
    # A word the base vocabulary splits into known pieces.
    word = next(t for t in new_vocab if t not in base_vocab and not t.startswith("##") and len(t) >= 3
                and len(base_tokenizer.tokenize(t)) >= 2 and base_tokenizer.unk_token not in base_tokenizer.tokenize(t))
    pieces = base_tokenizer.convert_tokens_to_ids(base_tokenizer.tokenize(word))
    assert "".join(base_tokenizer.tokenize(word)).replace("##", "") == word
    torch.testing.assert_close(embeddings[new_vocab[word]], base_embeddings[pieces].mean(0))
    # A token the base tokenizer knows only as [UNK] (a symbol news text lacks) is initialised as by random.
    unknown = next(t for t in new_vocab if t not in base_vocab and base_tokenizer.tokenize(t) == ["[UNK]"])
    random_weights = load_file(migrated["random"] / "model.safetensors")["bert.embeddings.word_embeddings.weight"]
    assert torch.equal(embeddings[new_vocab[unknown]], random_weights[new_vocab[unknown]])
    assert weights["cls.predictions.bias"][new_vocab[unknown]] == 0


def test_focus_initialises_new_rows_from_shared_ones(migrated, vocabularies):
    _, new_vocab, shared = vocabularies
    shared_rows = [new_vocab[t] for t in shared]
    new_rows = sorted(set(new_vocab.values()) - set(shared_rows))
    weights = load_file(migrated["focus"] / "model.safetensors")
    focus = weights["bert.embeddings.word_embeddings.weight"]
    random = load_file(migrated["random"] / "model.safetensors")["bert.embeddings.word_embeddings.weight"]
    assert torch.isfinite(focus).all() and not torch.equal(focus[new_rows], random[new_rows])
    # Convex combinations of shared rows lie in their bounding box (tokens without a fastText vector may not).
    low, high = focus[shared_rows].min(0).values, focus[shared_rows].max(0).values
    assert ((focus[new_rows] >= low) & (focus[new_rows] <= high)).all(1).float().mean() > 0.5
    assert torch.all(weights["cls.predictions.bias"][new_rows] == 0)


@pytest.mark.parametrize("method", ["random", "subword_mean", "focus"])
def test_migration_is_deterministic(base_dir, tweet_tokenizer, tweet_texts, migrated, method, tmp_path):
    migrate_embeddings(str(base_dir), tweet_tokenizer, tmp_path, method=method, seed=7, texts=tweet_texts)
    assert (tmp_path / "model.safetensors").read_bytes() == (migrated[method] / "model.safetensors").read_bytes()


def test_bad_method_or_missing_focus_texts_raise(base_dir, tweet_tokenizer, tmp_path):
    with pytest.raises(ValueError, match="unknown embedding initialisation"):
        migrate_embeddings(str(base_dir), tweet_tokenizer, tmp_path, method="zeros")
    with pytest.raises(ValueError, match="focus needs target-domain texts"):
        migrate_embeddings(str(base_dir), tweet_tokenizer, tmp_path, method="focus")
