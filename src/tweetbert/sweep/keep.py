"""The model of a study's best trial, kept while the sweep runs, so the test split needs no refit.

One folder per study holds ``trial-<number>/`` (weights, config and ``kept.json``) and ``best``, a symbolic link to
the current best. A finishing trial replaces it, under an exclusive lock shared by every worker of the study, when
its objective is higher, or equal from an earlier trial (the trial Optuna's ``best_trial`` names, whichever worker
ran it), or when the kept model no longer stands for a live trial of the study: its trial failed (the worker died
before reporting it) or the folder outlived its study (the trial's recorded weights digest differs). The new
folder is written in full first and the link swapped with one atomic rename, so a worker killed at any point
leaves the previous best intact; folders the link no longer names are removed under the lock.

The weights digest is computed only for a model that is kept (it copies every weight to the host), and recorded on
its trial under the same lock, so a worker judging the kept model always sees its trial's digest.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from transformers import PreTrainedModel

from tweetbert.errors import CheckFailed

BEST = "best"
RECORD = "kept.json"


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def kept_record(directory: Path) -> dict[str, Any] | None:
    """``kept.json`` of the current best trial, or None when nothing is kept yet."""
    path = Path(directory) / BEST / RECORD
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _replaces(record: Mapping[str, Any], current: Mapping[str, Any] | None, standing: Mapping[int, str]) -> bool:
    if current is None or standing.get(current["trial"]) != current["weights_sha256"]:
        return True
    if record["objective"] != current["objective"]:
        return record["objective"] > current["objective"]
    return record["trial"] < current["trial"]


def keep_if_best(directory: Path, model: PreTrainedModel, record: Mapping[str, Any],
                 standing: Callable[[], Mapping[int, str]], digest: Callable[[PreTrainedModel], str],
                 announce: Callable[[str], None]) -> bool:
    """Keeps ``model`` as the study's best when ``record`` (``trial``, ``objective``, ...) beats the kept one.

    ``standing()`` maps the study's running and complete trials to the weights digest each recorded (a kept model
    whose trial is not there, or recorded another digest, is stale); it is read under the lock. Only a model that
    is kept gets its ``digest``, which ``announce`` records on its trial before the model is written. Returns whether
    the model was kept.
    """
    directory = Path(directory)
    with _locked(directory):
        if not _replaces(record, kept_record(directory), standing()):
            return False
        record = {**record, "weights_sha256": digest(model)}
        announce(record["weights_sha256"])
        for leftover in directory.glob(".trial-*.partial"):  # of a worker killed while writing
            shutil.rmtree(leftover)
        name = f"trial-{record['trial']}"
        staging = directory / f".{name}.partial"
        model.save_pretrained(staging)
        (staging / RECORD).write_text(json.dumps(dict(record), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        shutil.rmtree(directory / name, ignore_errors=True)
        os.replace(staging, directory / name)
        link = directory / f".{BEST}.partial"
        link.unlink(missing_ok=True)
        link.symlink_to(name)
        os.replace(link, directory / BEST)
        for stale in directory.glob("trial-*"):
            if stale.name != name:
                shutil.rmtree(stale)
        return True


def kept_best(directory: Path, best_trial: int, weights_sha256: str | None) -> tuple[Path, dict[str, Any]]:
    """The kept model's folder and record, checked to be the study's best trial's (number and weights digest)."""
    record = kept_record(directory)
    if record is None:
        raise CheckFailed(f"{directory}: no kept model; the sweep of this study has not completed a trial")
    if record["trial"] != best_trial or record["weights_sha256"] != weights_sha256:
        raise CheckFailed(f"{directory}: the kept model is trial {record['trial']}'s but the study's best trial is "
                          f"{best_trial} (a worker died between keeping a model and reporting its trial, or the "
                          f"folder is from an earlier study); re-run this study's sweep")
    return Path(directory) / BEST, record
