"""Deterministic demo data, so the whole workflow runs end to end without downloading anything.

A raw tweet corpus with known duplicate clusters, downstream task files in their published formats and a
general-domain text for the tiny base model; the same seed always gives byte-identical files. ``tweets``
streams the corpus in batches; ``tweet_files`` makes them data frames (small corpora) or files (any size).
"""

from __future__ import annotations

from pathlib import Path

from tweetbert.demo import task_specs  # noqa: F401  (registers the demo's tasks)
from tweetbert.demo.general_text import generate_general_text, write_general_text
from tweetbert.demo.planted import planted_task_texts as _planted
from tweetbert.demo.tasks import write_tasks
from tweetbert.demo.tweet_files import generate_tweets, write_tweets

__all__ = ["generate_general_text", "generate_tweets", "write_demo_data", "write_general_text", "write_tasks",
           "write_tweets"]


def write_demo_data(out_dir: Path, seed: int = 0, n_tweets: int = 20_000, planted_task_texts: int = 0
                    ) -> dict[str, Path]:
    """Writes every demo file under ``out_dir`` and returns name -> path; ``planted_task_texts`` task texts are
    copied into the raw corpus (listed in ``planted_task_texts.tsv``) for the contamination check to find."""
    out_dir = Path(out_dir)
    planted = _planted(planted_task_texts, seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    planted.to_csv(out_dir / "planted_task_texts.tsv", sep="\t", index=False, lineterminator="\n")
    paths = write_tweets(out_dir, seed, n_tweets, planted["planted_text"].tolist())
    paths["planted_task_texts"] = out_dir / "planted_task_texts.tsv"
    paths.update(write_tasks(out_dir / "tasks", seed))
    paths["general_text"] = write_general_text(out_dir / "general_text.txt", seed)
    return paths
