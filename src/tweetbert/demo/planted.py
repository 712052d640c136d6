"""Task texts planted in the demo's raw corpus, so the contamination check has known matches to find.

Half are verbatim copies (found by the exact hash), half light edits a retweet or a re-post makes (found as near
duplicates): a link appended (placeholders are left out of shingles, so only the exact hash differs), an
``RT @user:`` prefix, or a laughing ``www`` at the end. Texts come from the tweet tasks only (WRIME and the
tweet-id tables), each from its own task example; drawn from their own random stream, so planting changes none of
the task files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tweetbert.demo.tasks import defamation_frame, jtbr_frame, sentiment3_frame, wrime_frame

PLANTED_COLUMNS = ("source", "split", "kind", "task_text", "planted_text")
_MIN_CHARS = 20  # enough MeCab words for shingles, so a near copy is findable at all
_EDITS = (lambda text, tag: f"{text} https://t.co/{tag}", lambda text, tag: f"RT @demo_{tag[:6]}: {text}",
          lambda text, tag: f"{text}www")


def _sources(seed: int) -> dict[str, pd.DataFrame]:
    """Each tweet task's texts and their published split (the tables carry none: their loader carves splits)."""
    wrime = wrime_frame(1500, seed)
    sources = {"wrime": pd.DataFrame({"text": wrime["Sentence"], "split": wrime["Train/Dev/Test"]})}
    for name, build in (("sentiment3", sentiment3_frame), ("defamation", defamation_frame), ("jtbr", jtbr_frame)):
        sources[name] = pd.DataFrame({"text": build(1500, seed)["text"], "split": ""})
    return sources


def planted_task_texts(n: int, seed: int) -> pd.DataFrame:
    """``n`` task texts (round robin over the tweet tasks, each text distinct) and their planted versions."""
    if n <= 0:
        return pd.DataFrame(columns=list(PLANTED_COLUMNS))
    rng = np.random.default_rng([seed, 30])
    sources, used, rows = _sources(seed), set(), []
    orders = {name: iter(rng.permutation(len(frame)).tolist()) for name, frame in sources.items()}
    names = list(sources)
    for i in range(n):
        name = names[i % len(names)]
        frame = sources[name]
        for position in orders[name]:
            text = frame["text"].iat[position]
            if len(text) >= _MIN_CHARS and text not in used:
                break
        else:
            raise ValueError(f"demo task {name} has too few distinct texts of {_MIN_CHARS}+ characters to plant {n}")
        used.add(text)
        tag = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz0123456789"), size=10).tolist())
        turn = i // len(names)  # each task's texts alternate: verbatim, edited, verbatim, ...
        kind = "exact" if turn % 2 == 0 else "near"
        planted = text if kind == "exact" else _EDITS[(turn // 2) % len(_EDITS)](text, tag)
        rows.append((name, frame["split"].iat[position], kind, text, planted))
    return pd.DataFrame(rows, columns=list(PLANTED_COLUMNS))
