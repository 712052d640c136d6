"""Model cards and `export`: every model folder can go to the Hub as it is, and loads offline after export."""

from __future__ import annotations

import shutil

import pytest

from tweetbert.errors import InputError
from tweetbert.modeling.card import CARD_FILE, CardResult, ModelCard, write_card
from tweetbert.modeling.export import export_model

CARD = ModelCard(
    name="tweetbert-balanced-lr1e-04",
    summary="A Japanese BERT adapted to tweets by continued masked-language-model pre-training.",
    base_model="tohoku-nlp/bert-base-japanese-v3",
    training_data="20,000 deduplicated, user-balanced Japanese tweets (the train split).",
    hyperparameters={"learning_rate": 1e-4, "weight_decay": 0.03, "epochs": 2},
    results=(CardResult(task="mlm", metric="perplexity", value=12.5, split="validation", task_type="fill-mask"),
             CardResult(task="sentiment3", metric="accuracy", value=0.71234, split="test")),
)


def test_card_metadata_parses_with_huggingface_hub(tmp_path):
    from huggingface_hub import ModelCard as HubCard

    hub = HubCard.load(write_card(tmp_path, CARD))
    assert hub.data.language == "ja"
    assert hub.data.base_model == "tohoku-nlp/bert-base-japanese-v3"
    assert hub.data.pipeline_tag == "fill-mask"
    assert hub.data.hyperparameters == {"epochs": 2, "learning_rate": 1e-4, "weight_decay": 0.03}
    assert "tweets" in hub.data.training_data
    scores = {(result.dataset_name, result.metric_type): result.metric_value for result in hub.data.eval_results}
    assert scores == {("mlm", "perplexity"): 12.5, ("sentiment3", "accuracy"): 0.71234}
    assert "| sentiment3 | test | accuracy | 0.7123 |" in hub.text


def test_card_is_byte_identical_when_written_again(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert write_card(tmp_path / "a", CARD).read_bytes() == write_card(tmp_path / "b", CARD).read_bytes()


@pytest.fixture
def carded_model(tiny_base_model, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(tiny_base_model, model)
    (model / "metrics.json").write_text("{}", encoding="utf-8")
    write_card(model, CARD)
    return model


def test_exported_folder_loads_offline_with_auto_classes(carded_model, tmp_path):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    files = export_model(carded_model, tmp_path / "hub")
    names = {path.name for path in files}
    assert {"model.safetensors", "config.json", "vocab.txt", CARD_FILE} <= names
    assert "metrics.json" not in names and not list((tmp_path / "hub").glob("*.bin"))
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "hub", local_files_only=True)
    model = AutoModelForMaskedLM.from_pretrained(tmp_path / "hub", local_files_only=True)
    encoded = tokenizer("今日はいい天気ですね", return_tensors="pt")
    assert model(**encoded).logits.shape[-1] == model.config.vocab_size


def test_export_refuses_a_folder_without_card_or_safetensors(carded_model, tmp_path):
    (carded_model / CARD_FILE).unlink()
    with pytest.raises(InputError, match="no README.md"):
        export_model(carded_model, tmp_path / "hub")
    write_card(carded_model, CARD)
    (carded_model / "model.safetensors").rename(carded_model / "pytorch_model.bin")
    with pytest.raises(InputError, match="only pickled weights: pytorch_model.bin"):
        export_model(carded_model, tmp_path / "hub")


def test_export_never_writes_into_a_non_empty_folder(carded_model, tmp_path):
    (tmp_path / "hub").mkdir()
    (tmp_path / "hub" / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="not empty"):
        export_model(carded_model, tmp_path / "hub")
    assert (tmp_path / "hub" / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_export_command_writes_the_folder_and_names_a_bad_model_folder(carded_model, tmp_path, capsys):
    from tweetbert.cli import main

    assert main(["export", "--model", str(carded_model), "--to", str(tmp_path / "hub")]) == 0
    assert str(tmp_path / "hub" / "model.safetensors") in capsys.readouterr().out
    assert main(["export", "--model", str(tmp_path / "missing"), "--to", str(tmp_path / "other")]) == 2
    assert f"{tmp_path / 'missing'}: is not a model directory" in capsys.readouterr().err
