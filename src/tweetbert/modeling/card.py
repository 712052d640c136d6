"""Hugging Face model cards for the models the workflow writes, so any model directory can be shared as it is.

The metadata is built with huggingface_hub's own ``ModelCardData``/``EvalResult`` (what the Hub parses); the body
says in prose what the model is, what it was trained on and how it scored in this run. Cards hold no dates or
absolute paths, so reruns write identical files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CARD_FILE = "README.md"


@dataclass(frozen=True)
class CardResult:
    """One evaluation figure of this run, e.g. the validation perplexity or a task's test accuracy."""

    task: str
    metric: str
    value: float
    split: str
    task_type: str = "text-classification"


@dataclass(frozen=True)
class ModelCard:
    name: str
    summary: str
    base_model: str
    training_data: str
    pipeline_tag: str = "fill-mask"
    hyperparameters: Mapping[str, object] = field(default_factory=dict)
    results: Sequence[CardResult] = ()


def _metadata(card: ModelCard) -> str:
    from huggingface_hub import EvalResult, ModelCardData

    results = [EvalResult(task_type=result.task_type, dataset_type=result.task, dataset_name=result.task,
                          dataset_split=result.split, metric_type=result.metric, metric_value=float(result.value))
               for result in card.results]
    data = ModelCardData(language="ja", library_name="transformers", pipeline_tag=card.pipeline_tag,
                         base_model=card.base_model, model_name=card.name, tags=["bert", "japanese", "twitter"],
                         eval_results=results or None, training_data=card.training_data,
                         hyperparameters={key: card.hyperparameters[key] for key in sorted(card.hyperparameters)})
    return data.to_yaml()


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def render_card(card: ModelCard) -> str:
    """The card's text: YAML metadata between ``---`` lines, then Markdown."""
    loader = "AutoModelForMaskedLM" if card.pipeline_tag == "fill-mask" else "AutoModelForSequenceClassification"
    sections = [
        f"# {card.name}",
        card.summary,
        f"Base model: `{card.base_model}`.",
        "## Training data",
        card.training_data,
    ]
    if card.hyperparameters:
        sections += ["## Hyper-parameters",
                     _table(["setting", "value"], [(key, card.hyperparameters[key])
                                                  for key in sorted(card.hyperparameters)])]
    if card.results:
        sections += ["## Evaluation (this run)",
                     _table(["task", "split", "metric", "value"],
                            [(r.task, r.split, r.metric, f"{r.value:.4f}") for r in card.results])]
    sections += ["## Use",
                 ("The tokenizer splits words with MeCab (fugashi + unidic-lite) before WordPiece:\n\n"
                 "```python\n"
                 f"from transformers import AutoTokenizer, {loader}\n\n"
                 "tokenizer = AutoTokenizer.from_pretrained(PATH)\n"
                 f"model = {loader}.from_pretrained(PATH)\n"
                 "```")]
    return f"---\n{_metadata(card).rstrip()}\n---\n\n" + "\n\n".join(sections) + "\n"


def write_card(model_dir: str | Path, card: ModelCard) -> Path:
    path = Path(model_dir) / CARD_FILE
    path.write_text(render_card(card), encoding="utf-8")
    return path


def base_model_of(model_dir: str | Path) -> str | None:
    """The ``base_model`` a model directory's card names (a migrated model names the model it came from)."""
    path = Path(model_dir) / CARD_FILE
    if not path.is_file():
        return None
    from huggingface_hub import ModelCard as HubCard

    base = HubCard.load(path).data.base_model
    return str(base) if base else None


def migrated_card(base: str, corpus: str, counts: Mapping[str, object]) -> ModelCard:
    return ModelCard(
        name=f"tweetbert-migrated-{corpus}",
        summary=(f"`{base}` moved onto the WordPiece vocabulary trained on the {corpus} tweet corpus: "
                 f"{counts['shared']:,} of its {counts['new_vocab']:,} entries keep the base model's embeddings, "
                 f"{counts['new']:,} new ones are initialised by `{counts['method']}`. Not yet pre-trained on "
                 f"tweets: the starting point of every pre-training candidate on this corpus."),
        base_model=base,
        training_data=f"None beyond the base model's; the vocabulary was trained on the {corpus} tweet corpus.",
        hyperparameters=dict(counts))


def candidate_card(run: str, base: str, corpus: str, metrics: Mapping[str, Any], *, epoch: int | None = None,
                   validation_loss: float | None = None) -> ModelCard:
    """A pre-training candidate: the run's final model, or (``epoch``) the model it had after that epoch."""
    settings = dict(metrics["settings"])
    loss = metrics["final_validation_loss"] if epoch is None else validation_loss
    at = "" if epoch is None else f" after epoch {epoch} of {settings['epochs']}"
    results = () if loss is None else (
        CardResult(task="masked-lm", metric="loss", value=loss, split="validation", task_type="fill-mask"),
        CardResult(task="masked-lm", metric="perplexity", value=math.exp(loss), split="validation",
                   task_type="fill-mask"))
    return ModelCard(
        name=f"tweetbert-{run}" + ("" if epoch is None else f"-epoch-{epoch}"),
        summary=(f"A Japanese BERT adapted to tweets by continued masked-language-model pre-training{at} "
                 f"(tweetbert run `{run}`), starting from `{base}` on the {corpus} corpus's vocabulary."),
        base_model=base,
        training_data=(f"The train split of the `{corpus}` tweet corpus (deduplicated"
                       f"{'; tweets per user capped' if corpus == 'balanced' else ''}): "
                       f"{metrics['train_texts']:,} tweets; validation on {metrics['validation_texts']:,}."),
        hyperparameters=settings, results=results)
