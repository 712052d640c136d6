"""A model directory of the workflow as a Hub-ready folder: safetensors weights, tokenizer files and the card.

Only the files a Hub repository needs travel; training leftovers (metrics, migration counts) stay behind, and a
directory with pickled weights only is refused rather than shared.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tweetbert.errors import InputError
from tweetbert.modeling.card import CARD_FILE

_SHARED_FILES = ("config.json", "model.safetensors", "model.safetensors.index.json", "vocab.txt",
                 "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "tokenizer.json",
                 CARD_FILE)
_SHARDS = "model-*-of-*.safetensors"


def export_model(model_dir: str | Path, out: str | Path) -> list[Path]:
    """Copies the shareable files of ``model_dir`` into ``out`` (new or empty); returns the files written."""
    model_dir, out = Path(model_dir), Path(out)
    if not model_dir.is_dir():
        raise InputError(model_dir, "is not a model directory")
    files = [model_dir / name for name in _SHARED_FILES if (model_dir / name).is_file()]
    files += sorted(model_dir.glob(_SHARDS))
    names = {path.name for path in files}
    if not any(name.endswith(".safetensors") for name in names):
        pickled = sorted(path.name for path in model_dir.glob("*.bin"))
        detail = f" (only pickled weights: {', '.join(pickled)}; these are never shared)" if pickled else ""
        raise InputError(model_dir, f"holds no safetensors weights{detail}")
    for required, why in (("config.json", "the model configuration"), ("vocab.txt", "the tokenizer's vocabulary"),
                          (CARD_FILE, "the model card")):
        if required not in names:
            raise InputError(model_dir, f"has no {required} ({why}); was it written by the tweetbert workflow?")
    if out.exists() and any(out.iterdir()):
        raise InputError(out, "exists and is not empty: export writes into a new or empty folder")
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for path in files:
        shutil.copyfile(path, staging / path.name)
    if out.exists():
        out.rmdir()
    staging.rename(out)
    return sorted(out / path.name for path in files)
