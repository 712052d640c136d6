"""Continued MLM pre-training: whole-word masks, the masked-only loss, the schedule, length-grouped batches, the
token data, the outputs of a short run, and resumption (after SIGKILL and after SIGTERM, from damaged checkpoints
too) to the very same weights."""

import importlib.util
import itertools
import json
import logging
import math
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from tweetbert.corpus.normalize import normalize_texts
from tweetbert.demo import generate_tweets
from tweetbert.errors import ConfigError, InputError
from tweetbert.modeling.calibrate import calibrate_batch_size, largest_fitting, with_margin
from tweetbert.modeling.checkpoint import (
    TrainingState,
    latest_checkpoint,
    latest_intact_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from tweetbert.modeling.masking import IGNORE_INDEX, WholeWordMasking
from tweetbert.modeling.pretrain import PretrainSettings, pretrain
from tweetbert.modeling.pretrain_data import epoch_batches, model_inputs
from tweetbert.modeling.pretrain_model import MaskedOnlyMLM, decay_groups, linear_schedule, resolve_warmup
from tweetbert.modeling.pretrain_record import PHASES, RESUME_METRIC, TIMING_METRICS, RunOutputs
from tweetbert.modeling.tokens import load_tokens, tokenize_corpus, truncate

os.environ["HF_HUB_OFFLINE"] = "1"

# Checkpoints by the clock, every 0.12 s: several per run, written in the background while training goes on.
SETTINGS = PretrainSettings(learning_rate=1e-3, epochs=2, batch_size=16, max_seq_length=64, warmup_steps=0.1,
                            eval_every=20, save_every=None, save_every_minutes=0.002, seed=3, epoch_checkpoints=True)
# A run in a child process, as Snakemake would start it; killed by the tests.
CHILD = """
import json, logging, sys
from pathlib import Path
from tweetbert.modeling.pretrain import PretrainSettings, pretrain
logging.basicConfig(level=logging.INFO, format="%(message)s")
args = json.loads(sys.argv[1])
pretrain(Path(args["model"]), Path(args["tokens"]), Path(args["out"]), Path(args["checkpoints"]),
         PretrainSettings(**args["settings"]), progress=False)
"""

# Hand-made vocabulary: ids 0-6 and 13 are special (13, the newline, is an added token after the vocabulary).
TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[URL]", "[USER]", "東京", "##都", "##庁", "に", "行く",
          "##た", "\n"]
SPECIAL = [0, 1, 2, 3, 4, 5, 6, 13]
# [CLS] 東京 ##都 ##庁 に [URL] ##都 行く ##た \n [SEP]: words {1,2,3}, {4}, {6} (a piece after a special token
# starts a word), {7,8}.
SEQUENCE = [2, 7, 8, 9, 10, 5, 8, 11, 12, 13, 3]
WORDS = [[1, 2, 3], [4], [6], [7, 8]]


def _masking(**kwargs) -> WholeWordMasking:
    return WholeWordMasking(TOKENS, SPECIAL, mask_id=4, pad_id=0, **kwargs)


def test_whole_word_masking_masks_all_pieces_of_a_word_together_and_never_specials():
    masking = _masking(mlm_probability=0.3)
    batch = masking([SEQUENCE] * 2000 + [SEQUENCE[:5]] * 10, torch.Generator().manual_seed(0))
    chosen = batch["labels"][:2000] != IGNORE_INDEX
    for word in WORDS:
        assert (chosen[:, word] == chosen[:, word[:1]]).all(), word
    specials = [i for i, token in enumerate(SEQUENCE) if token in SPECIAL]
    assert not chosen[:, specials].any()
    assert not (batch["labels"][2000:, 5:] != IGNORE_INDEX).any()  # padding is never a target
    assert (batch["attention_mask"][2000:].sum(1) == 5).all() and batch["input_ids"].shape == (2010, len(SEQUENCE))
    # Words are drawn independently: the piece after [URL] is not tied to the 東京 word it would continue.
    assert (chosen[:, 1] != chosen[:, 6]).any()
    for word in WORDS:
        assert abs(chosen[:, word[0]].float().mean().item() - 0.3) < 0.04
    same = masking([SEQUENCE] * 2000, torch.Generator().manual_seed(0))
    assert torch.equal(same["labels"], batch["labels"][:2000])


def test_masking_rate_and_80_10_10_split_on_a_large_sample():
    vocabulary = TOKENS[:7] + [f"w{i}" if i % 3 == 0 else f"##p{i}" for i in range(200)]
    generator = torch.Generator().manual_seed(1)
    sequences = [[2, *torch.randint(7, len(vocabulary), (60,), generator=generator).tolist(), 3]
                 for _ in range(1000)]
    for whole_word in (True, False):
        masking = WholeWordMasking(vocabulary, range(7), mask_id=4, pad_id=0, mlm_probability=0.15,
                                   whole_word=whole_word)
        batch = masking(sequences, generator)
        original = torch.tensor(sequences)
        chosen = batch["labels"] != IGNORE_INDEX
        assert torch.equal(batch["labels"][chosen], original[chosen])
        assert abs(chosen[:, 1:-1].float().mean().item() - 0.15) < 0.01
        inputs = batch["input_ids"][chosen]
        masked = (inputs == 4).float().mean().item()
        kept = (inputs == original[chosen]).float().mean().item()
        assert abs(masked - 0.8) < 0.02 and abs(kept - (0.1 + 0.1 / 200)) < 0.015
        replaced = inputs[(inputs != 4) & (inputs != original[chosen])]
        assert len(replaced) > 0 and (replaced >= 7).all()  # random replacements are never special tokens
        assert torch.equal(batch["input_ids"][~chosen], original[~chosen])


@pytest.fixture(scope="module")
def base_dir(tiny_base_model) -> Path:
    return tiny_base_model


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    tweets, _ = generate_tweets(1500, seed=1)
    texts = normalize_texts(tweets["text"].tolist())
    split = ["validation" if i % 10 == 0 else "test" if i % 10 == 1 else "train" for i in range(len(texts))]
    path = tmp_path_factory.mktemp("corpus") / "split.parquet"
    pd.DataFrame({"text": texts, "split": split}).to_parquet(path)
    return path


@pytest.fixture(scope="module")
def tokens(tmp_path_factory, base_dir, corpus) -> Path:
    """The corpus's token data, as tokenize_corpus writes it once for every run."""
    output = tmp_path_factory.mktemp("tokens") / "dedup"
    tokenize_corpus(corpus, base_dir, SETTINGS.max_seq_length, output, progress=False)
    return output


@pytest.fixture(scope="module")
def reference(tmp_path_factory, base_dir, tokens) -> dict:
    """An uninterrupted run that the resumed ones must reproduce."""
    root = tmp_path_factory.mktemp("reference")
    metrics = pretrain(base_dir, tokens, root / "out", root / "checkpoints", SETTINGS, progress=False)
    return {"root": root, "out": root / "out", "metrics": metrics}


def _weights(model_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(model_dir / "model.safetensors")


def _same_weights(a: Path, b: Path) -> bool:
    left, right = _weights(a), _weights(b)
    return left.keys() == right.keys() and all(torch.equal(left[k], right[k]) for k in left)


def test_masked_only_loss_and_gradients_equal_the_full_mlm_loss(base_dir):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    model = AutoModelForMaskedLM.from_pretrained(base_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    texts = ["東京都庁に行った", "[URL] 今日はいい天気\nですね", "猫"]
    masking = WholeWordMasking.from_tokenizer(tokenizer, mlm_probability=0.5)
    batch = masking([tokenizer(text)["input_ids"] for text in texts], torch.Generator().manual_seed(0))
    full = model(**batch).loss
    full.backward()
    expected = {name: p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad()
    inputs = model_inputs(batch, torch.device("cpu"))
    masked_only = MaskedOnlyMLM(model)(*inputs) / len(inputs[2])
    masked_only.backward()
    assert len(inputs[2]) > 0 and torch.allclose(masked_only, full, atol=1e-6)
    for name, parameter in model.named_parameters():
        assert torch.allclose(parameter.grad, expected[name], atol=1e-6), name


def test_warmup_then_linear_decay_to_zero_at_the_last_step():
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    schedule = linear_schedule(optimizer, warmup=10, total=50)
    used = []
    for _ in range(50):
        used.append(schedule.get_last_lr()[0])
        optimizer.step()
        schedule.step()
    assert used[0] == 0 and all(a < b for a, b in itertools.pairwise(used[:11])) and used[10] == 1.0
    decay = np.diff(used[10:])
    assert np.allclose(decay, -1 / 40) and schedule.get_last_lr()[0] == 0.0
    assert resolve_warmup(0.1, 95) == 10 and resolve_warmup(7, 95) == 7
    with pytest.raises(ConfigError, match="warmup_steps"):
        resolve_warmup(10000, 150)


def test_no_weight_decay_on_biases_and_layer_norm(base_dir):
    from transformers import AutoModelForMaskedLM

    model = AutoModelForMaskedLM.from_pretrained(base_dir)
    decay, no_decay = decay_groups(model, 0.03)
    names = {id(p): name for name, p in model.named_parameters()}
    assert decay["weight_decay"] == 0.03 and no_decay["weight_decay"] == 0.0
    assert all(names[id(p)].endswith("bias") or "LayerNorm" in names[id(p)] for p in no_decay["params"])
    assert all(p.ndim == 2 for p in decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


def test_batches_group_lengths_and_depend_only_on_seed_and_epoch():
    lengths = np.random.default_rng(0).integers(3, 64, 5000)
    batches = epoch_batches(lengths, 16, seed=1, epoch=0)
    assert sorted(np.concatenate(batches).tolist()) == list(range(5000)) and len(batches) == math.ceil(5000 / 16)
    assert all(np.array_equal(a, b) for a, b in zip(batches, epoch_batches(lengths, 16, 1, 0), strict=True))
    assert not np.array_equal(np.concatenate(batches), np.concatenate(epoch_batches(lengths, 16, 1, 1)))
    padded = sum(len(b) * lengths[b].max() for b in batches)
    shuffled = np.random.default_rng(1).permutation(5000)
    padded_randomly = sum(16 * lengths[shuffled[i : i + 16]].max() for i in range(0, 5000, 16))
    assert padded < 0.7 * padded_randomly  # dynamic padding of similar lengths wastes little
    assert truncate([2, 5, 6, 7, 3], 4) == [2, 5, 6, 3] and truncate([2, 5, 3], 4) == [2, 5, 3]


def test_token_data_truncates_keeping_sep_last_in_uint16_and_is_byte_identical_when_rewritten(base_dir, tmp_path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    texts = ["猫", "今日は東京で友達とご飯を食べて、それから映画を見に行きました", "[URL]\n[USER]", "犬"]
    corpus = tmp_path / "corpus" / "split.parquet"
    corpus.parent.mkdir()
    pd.DataFrame({"text": texts, "split": ["train", "train", "train", "validation"]}).to_parquet(corpus)
    first = tokenize_corpus(corpus, base_dir, 8, tmp_path / "a", workers=2, progress=False)
    assert first["dtype"] == "<u2" and first["splits"]["train"] == {"texts": 3, "tokens": 16, "truncated": 1}
    splits, info = load_tokens(tmp_path / "a", base_dir)
    assert info == first and splits["train"].lengths.tolist() == [3, 8, 5] and splits["train"].truncated == 1
    full = tokenizer(texts[1])["input_ids"]
    assert splits["train"].sequences([1])[0].tolist() == [*full[:7], tokenizer.sep_token_id]
    assert splits["train"].sequences([2])[0].tolist() == tokenizer(texts[2])["input_ids"]
    assert splits["validation"].sequences([0])[0].tolist() == tokenizer(texts[3])["input_ids"]
    tokenize_corpus(corpus, base_dir, 8, tmp_path / "b", workers=1, progress=False)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert all((tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes() for name in files)
    assert truncate([2, 5, 6, 7, 3], 4) == [2, 5, 6, 3] and truncate([2, 5, 3], 4) == [2, 5, 3]


def test_damaged_token_data_or_another_vocabulary_is_refused_naming_the_file(tokens, base_dir, tmp_path):
    import shutil

    damaged = tmp_path / "damaged"
    shutil.copytree(tokens, damaged)
    ids = damaged / "train.ids.bin"
    ids.write_bytes(ids.read_bytes()[:-2])
    with pytest.raises(InputError, match=r"damaged \(train.ids.bin has .*forcerun tokenize_corpus"):
        load_tokens(damaged, base_dir)
    other_model = tmp_path / "model"
    other_model.mkdir()
    (other_model / "vocab.txt").write_text("[PAD]\n[UNK]\n", encoding="utf-8")
    with pytest.raises(InputError, match="another vocabulary than the model's"):
        load_tokens(tokens, other_model)


def test_each_output_is_written_at_its_own_path_and_the_epochs_output_follows_epoch_checkpoints(tmp_path, base_dir,
                                                                                              tokens):
    outputs = RunOutputs("a-run", tmp_path / "models" / "final", tmp_path / "records" / "m.json",
                         tmp_path / "records" / "curve.tsv", tmp_path / "models" / "by-epoch")
    with pytest.raises(ValueError, match="must be left out"):
        pretrain(base_dir, tokens, outputs, tmp_path / "checkpoints", replace(SETTINGS, epoch_checkpoints=False))
    with pytest.raises(ValueError, match="must be given"):
        pretrain(base_dir, tokens, replace(outputs, epochs=None), tmp_path / "checkpoints", SETTINGS)
    with pytest.raises(ValueError, match="lies inside the output"):
        pretrain(base_dir, tokens, outputs, tmp_path / "models" / "by-epoch" / "checkpoints", SETTINGS)
    settings = replace(SETTINGS, learning_rate=0.5, warmup_steps=0, eval_every=5, early_stopping_patience=2)
    metrics = pretrain(base_dir, tokens, outputs, tmp_path / "checkpoints", settings, progress=False)
    assert json.loads(outputs.metrics.read_text()) == metrics
    assert (outputs.model / "model.safetensors").exists() and "a-run" in (outputs.model / "README.md").read_text()
    assert pd.read_csv(outputs.loss_curve, sep="\t").shape[0] > 0
    assert outputs.epochs.is_dir()  # declared by the workflow, so there even when no epoch ended
    assert sorted(path.name for path in tmp_path.iterdir()) == ["models", "records"]  # checkpoints removed


def test_short_run_writes_a_loadable_model_metrics_curve_and_epoch_models(reference, base_dir):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    out, metrics = reference["out"], reference["metrics"]
    assert not (reference["root"] / "checkpoints").exists()
    model = AutoModelForMaskedLM.from_pretrained(out / "model")
    tokenizer = AutoTokenizer.from_pretrained(out / "model")
    assert type(model).__name__ == "BertForMaskedLM" and (out / "model" / "model.safetensors").exists()
    text = "[USER] 東京に行った\n[URL]"
    assert tokenizer(text)["input_ids"] == AutoTokenizer.from_pretrained(base_dir)(text)["input_ids"]
    assert json.loads((out / "metrics.json").read_text()) == metrics
    assert metrics["settings"] == asdict(SETTINGS) and metrics["attention"] == "sdpa"
    assert metrics["optimizer_steps"] == metrics["planned_steps"] == 2 * metrics["steps_per_epoch"] == 150
    assert metrics["final_validation_loss"] < metrics["initial_validation_loss"] - 1.0
    assert metrics["final_validation_perplexity"] == pytest.approx(math.exp(metrics["final_validation_loss"]))
    assert 0 < metrics["tokens_seen"] and metrics["tokens_per_second"] > 0
    assert metrics["train_texts"] == 1200 and metrics["validation_texts"] == metrics["validation_texts_scored"] == 150
    assert set(metrics["time_seconds"]) == {*PHASES, "other"} and metrics["time_seconds"]["training"] > 0
    assert sum(metrics["time_seconds"].values()) == pytest.approx(metrics["wall_seconds"], abs=0.05)
    assert metrics["train_seconds"] == pytest.approx(metrics["time_seconds"]["training"], abs=0.01)
    assert metrics["device_name"] == "cpu" and metrics["device_seconds"] == metrics["wall_seconds"]
    assert set(metrics["truncated_texts"]) == {"train", "validation"}
    curve = pd.read_csv(out / "loss_curve.tsv", sep="\t")
    assert list(curve.columns) == ["step", "epoch", "learning_rate", "train_loss", "validation_loss"]
    evaluated = curve.dropna(subset=["validation_loss"])
    assert evaluated["step"].tolist() == [0, 20, 40, 60, 75, 80, 100, 120, 140, 150]
    assert evaluated["validation_loss"].iloc[-1] < evaluated["validation_loss"].iloc[0]
    assert curve["step"].is_monotonic_increasing and curve["epoch"].iloc[-1] == 2
    assert sorted(p.name for p in (out / "epochs").iterdir()) == ["epoch-1", "epoch-2"]
    assert json.loads((out / "epochs" / "epoch-1" / "metrics.json").read_text())["step"] == 75
    AutoModelForMaskedLM.from_pretrained(out / "epochs" / "epoch-1")
    assert _same_weights(out / "epochs" / "epoch-2", out / "model")
    assert not _same_weights(out / "epochs" / "epoch-1", out / "model")


def test_every_model_folder_of_a_run_carries_a_card_with_its_validation_scores(reference, base_dir):
    from huggingface_hub import ModelCard

    out, metrics = reference["out"], reference["metrics"]
    final = ModelCard.load(out / "model" / "README.md").data
    assert final.language == "ja" and final.base_model == str(base_dir)
    assert final.hyperparameters == asdict(SETTINGS)
    scores = {result.metric_type: result.metric_value for result in final.eval_results}
    assert scores["loss"] == pytest.approx(metrics["final_validation_loss"])
    assert scores["perplexity"] == pytest.approx(metrics["final_validation_perplexity"])
    curve = pd.read_csv(out / "loss_curve.tsv", sep="\t")
    after_epoch_1 = curve.loc[curve["step"] == 75, "validation_loss"].item()
    first = ModelCard.load(out / "epochs" / "epoch-1" / "README.md").data
    assert first.model_name.endswith("-epoch-1")
    assert {r.metric_type: r.metric_value for r in first.eval_results}["loss"] == pytest.approx(after_epoch_1)


def _start_child(tmp_path: Path, base_dir: Path, tokens: Path) -> tuple[subprocess.Popen, Path]:
    args = {"model": str(base_dir), "tokens": str(tokens), "out": str(tmp_path / "out"),
            "checkpoints": str(tmp_path / "checkpoints"), "settings": asdict(SETTINGS)}
    log = tmp_path / "child.log"
    with log.open("w") as handle:
        process = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(args)], stdout=handle, stderr=handle)
    deadline = time.monotonic() + 120
    while latest_checkpoint(tmp_path / "checkpoints") is None:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the child run ended or hung before its first checkpoint:\n{log.read_text()}")
        time.sleep(0.005)
    return process, log


def test_a_killed_run_resumes_where_it_saved_and_ends_with_the_same_weights(tmp_path, base_dir, tokens, reference,
                                                                            caplog):
    process, _ = _start_child(tmp_path, base_dir, tokens)
    process.send_signal(signal.SIGKILL)
    process.wait()
    saved = latest_checkpoint(tmp_path / "checkpoints")
    step = int(saved.name.split("-")[1])
    assert 0 < step < 150 and not (tmp_path / "out").exists()

    with pytest.raises(InputError, match=r"different run.*setting learning_rate: checkpoint 0.001, now 0.002"):
        pretrain(base_dir, tokens, tmp_path / "out", tmp_path / "checkpoints",
                 replace(SETTINGS, learning_rate=2e-3), progress=False)

    stale = tmp_path / "checkpoints" / "epochs" / "epoch-1"  # as if left by an earlier session
    stale.mkdir(parents=True)
    (stale / "model.safetensors").write_bytes(b"stale")
    with caplog.at_level(logging.INFO, logger="tweetbert.modeling.pretrain"):
        metrics = pretrain(base_dir, tokens, tmp_path / "out", tmp_path / "checkpoints", SETTINGS, progress=False)
    assert f"resuming from {saved} at step {step} " in caplog.text
    assert "step 0: validation loss" not in caplog.text  # nothing before the checkpoint was redone
    assert metrics[RESUME_METRIC] == {"from_step": step, "checkpoints_rejected": []}
    expected = reference["metrics"]
    assert expected[RESUME_METRIC]["from_step"] is None
    assert metrics["optimizer_steps"] == expected["optimizer_steps"] == 150
    ignored = (*TIMING_METRICS, RESUME_METRIC)
    assert {k: v for k, v in metrics.items() if k not in ignored} == \
        {k: v for k, v in expected.items() if k not in ignored}
    assert _same_weights(tmp_path / "out" / "model", reference["out"] / "model")
    assert _same_weights(tmp_path / "out" / "epochs" / "epoch-1", reference["out"] / "epochs" / "epoch-1")
    assert (tmp_path / "out" / "loss_curve.tsv").read_text() == (reference["out"] / "loss_curve.tsv").read_text()
    assert not (tmp_path / "checkpoints").exists()


def test_a_run_whose_checkpoints_were_truncated_starts_over_and_says_so(tmp_path, base_dir, tokens, reference,
                                                                          caplog):
    process, _ = _start_child(tmp_path, base_dir, tokens)
    process.send_signal(signal.SIGKILL)
    process.wait()
    checkpoint_dir = tmp_path / "checkpoints"
    for damaged in checkpoint_dir.glob("step-*/optimizer.pt"):
        with damaged.open("r+b") as handle:
            handle.truncate(damaged.stat().st_size // 2)

    with caplog.at_level(logging.WARNING, logger="tweetbert.modeling.pretrain"):
        metrics = pretrain(base_dir, tokens, tmp_path / "out", checkpoint_dir, SETTINGS, progress=False)
    resume = metrics[RESUME_METRIC]
    assert resume["from_step"] is None and "starting over" in caplog.text
    assert resume["checkpoints_rejected"] and all("optimizer.pt has" in r for r in resume["checkpoints_rejected"])
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())[RESUME_METRIC] == resume
    assert _same_weights(tmp_path / "out" / "model", reference["out"] / "model")
    assert _same_weights(tmp_path / "out" / "epochs" / "epoch-1", reference["out"] / "epochs" / "epoch-1")


def test_sigterm_saves_a_checkpoint_at_the_current_step_and_exits_non_zero(tmp_path, base_dir, tokens):
    process, log = _start_child(tmp_path, base_dir, tokens)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    message = [line for line in log.read_text().splitlines() if line.startswith("SIGTERM: saved a checkpoint")]
    assert len(message) == 1, log.read_text()
    step = int(re.search(r"at step (\d+)", message[0]).group(1))
    assert latest_checkpoint(tmp_path / "checkpoints").name == f"step-{step:08d}"
    state = json.loads((latest_checkpoint(tmp_path / "checkpoints") / "state.json").read_text())["state"]
    assert state["step"] == step and state["epoch_step"] == step and not (tmp_path / "out").exists()


def test_early_stopping_keeps_the_last_model_and_reports_the_best(tmp_path, base_dir, tokens, caplog):
    settings = replace(SETTINGS, learning_rate=0.5, warmup_steps=0, eval_every=5, early_stopping_patience=2,
                       epoch_checkpoints=False)
    with caplog.at_level(logging.INFO, logger="tweetbert.modeling.pretrain"):
        metrics = pretrain(base_dir, tokens, tmp_path / "out", tmp_path / "checkpoints", settings, progress=False,
                           tensorboard_dir=tmp_path / "tensorboard")
    if importlib.util.find_spec("tensorboard") is None:
        assert "tensorboard is not installed" in caplog.text
    else:
        assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    assert "early stopping at step" in caplog.text
    assert metrics["stopped_early"] and metrics["optimizer_steps"] < metrics["planned_steps"]
    assert metrics["optimizer_steps"] % 5 == 0 and metrics["best_step"] <= metrics["optimizer_steps"] - 10
    assert metrics["best_validation_loss"] < metrics["final_validation_loss"]
    assert not (tmp_path / "out" / "epochs").exists() and not (tmp_path / "checkpoints").exists()


def _tiny_training(tmp_path: Path, steps: tuple[int, ...], identity: dict) -> tuple:
    """A linear model trained and checkpointed at each of ``steps``; returns model, optimizer and schedule."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    schedule = linear_schedule(optimizer, 1, 10)
    for step in steps:
        model(torch.ones(1, 3)).sum().backward()
        optimizer.step()
        schedule.step()
        save_checkpoint(tmp_path, model, optimizer, schedule, TrainingState(step=step), identity)
    return model, optimizer, schedule


def _restorable() -> tuple:
    restored = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(restored.parameters(), lr=0.1)
    return restored, optimizer, linear_schedule(optimizer, 1, 10)


def test_checkpoints_are_published_whole_keep_the_latest_two_and_name_what_differs(tmp_path):
    identity = {"settings": asdict(SETTINGS), "processes": 1, "tokenised data": "abc"}
    model, optimizer, schedule = _tiny_training(tmp_path, (1, 2, 3), identity)
    (tmp_path / ".tmp-step-00000004").mkdir()  # a save killed half-way
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("step-")) == [
        "step-00000002", "step-00000003"]
    assert latest_intact_checkpoint(tmp_path) == (tmp_path / "step-00000003", [])
    restored, restored_optimizer, restored_schedule = _restorable()
    state = load_checkpoint(latest_checkpoint(tmp_path), restored, restored_optimizer, restored_schedule, identity)
    assert state.step == 3 and torch.equal(restored.weight, model.weight)
    assert restored_schedule.get_last_lr() == schedule.get_last_lr()
    moments = [o.state_dict()["state"][0]["exp_avg"] for o in (optimizer, restored_optimizer)]
    assert torch.equal(*moments)
    changed = {**identity, "tokenised data": "def", "settings": asdict(replace(SETTINGS, seed=4))}
    with pytest.raises(InputError, match="tokenised data: checkpoint 'abc', now 'def'; setting seed: checkpoint 3"):
        load_checkpoint(latest_checkpoint(tmp_path), restored, restored_optimizer, restored_schedule, changed)


@pytest.mark.parametrize(("name", "damage", "problem"), [
    ("model.safetensors", "truncate", "model.safetensors has"),
    ("optimizer.pt", "truncate", "optimizer.pt has"),
    ("scheduler.pt", "flip", "scheduler.pt is not what was written"),
    ("state.json", "truncate", "state.json has"),
    ("state.json", "delete", "state.json is missing"),
    ("manifest.json", "truncate", "manifest.json is damaged"),
    ("manifest.json", "delete", "no manifest.json"),
])
def test_a_damaged_latest_checkpoint_is_passed_over_for_the_one_before(tmp_path, name, damage, problem):
    identity = {"settings": asdict(SETTINGS), "processes": 1, "tokenised data": "abc"}
    _tiny_training(tmp_path, (1, 2), identity)
    path = tmp_path / "step-00000002" / name
    if damage == "delete":
        path.unlink()
    else:
        content = path.read_bytes()
        damaged = content[: len(content) // 2] if damage == "truncate" else content[:-1] + bytes([content[-1] ^ 0xFF])
        path.write_bytes(damaged)
    intact, rejected = latest_intact_checkpoint(tmp_path)
    assert intact == tmp_path / "step-00000001"
    assert [(p.name, text.startswith(problem)) for p, text in rejected] == [("step-00000002", True)], rejected
    assert load_checkpoint(intact, *_restorable(), identity).step == 1


def test_settings_are_validated():
    with pytest.raises(ValueError, match=r"batch_size must be at least 1.*mlm_probability"):
        PretrainSettings(batch_size=0, mlm_probability=1.5)
    with pytest.raises(ValueError, match="warmup_steps"):
        PretrainSettings(warmup_steps=2.5)


def test_batch_size_search_doubles_then_bisects_and_keeps_a_margin():
    tried = []

    def fits_below(threshold):
        def fits(batch):
            tried.append(batch)
            return batch <= threshold
        return fits

    assert largest_fitting(fits_below(300), start=8, limit=4096) == 300
    assert tried[:7] == [8, 16, 32, 64, 128, 256, 512] and len(tried) <= 16
    assert largest_fitting(fits_below(10**6), start=8, limit=4096) == 4096
    assert largest_fitting(fits_below(3000), start=8, limit=4000) == 3000
    assert largest_fitting(fits_below(5), start=8, limit=4096) == 5
    with pytest.raises(RuntimeError, match="not even a batch of one"):
        largest_fitting(fits_below(0), start=8, limit=4096)
    assert with_margin(300, 0.1) == 270 and with_margin(1, 0.5) == 1


def test_calibration_on_cpu_defers_to_the_configured_batch_size(base_dir):
    if torch.cuda.is_available():
        pytest.skip("the CPU branch")
    assert calibrate_batch_size(base_dir, 64) == {"device": "cpu", "batch_size": None, "max_fitting": None,
                                                  "max_seq_length": 64, "peak_memory_gb": None}


def test_loss_curve_panels_draw_each_runs_written_curve_in_its_corpus_colour(reference, tmp_path, capsys):
    import shutil

    from tweetbert.cli import main
    from tweetbert.plots.palette import CORPORA, TRAIN_LOSS
    from tweetbert.plots.pretrain import plot_loss_curves

    runs = {"dedup-lr1e-03-ep2": "dedup", "balanced-lr1e-03-ep2": "balanced"}
    curves = []
    for run in runs:
        (tmp_path / run).mkdir()
        curves.append(shutil.copy(reference["out"] / "loss_curve.tsv", tmp_path / run / "loss_curve.tsv"))
    plot = tmp_path / "loss_curves.png"
    assert main(["pretrain-loss-curves", "--curves", *map(str, curves), "--plot", str(plot),
                 *(f"--corpus={run}={corpus}" for run, corpus in runs.items())]) == 0
    assert plot.stat().st_size > 0
    curve = pd.read_csv(curves[0], sep="\t")
    fig = plot_loss_curves({run: curve for run in runs}, runs, tmp_path / "again.png")
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert sorted(ax.get_title() for ax in panels) == sorted(runs)
    for ax in panels:
        train, validation = ax.get_lines()
        assert train.get_color() == TRAIN_LOSS and validation.get_color() == CORPORA[runs[ax.get_title()]]
        assert list(validation.get_ydata()) == pytest.approx(curve["validation_loss"].dropna().tolist())
    assert main(["pretrain-loss-curves", "--curves", str(curves[0]), "--plot", str(plot),
                 "--corpus=other=dedup"]) == 2
    assert "no --corpus dedup-lr1e-03-ep2=CORPUS" in capsys.readouterr().err
