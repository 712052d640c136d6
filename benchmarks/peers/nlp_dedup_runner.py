"""Runs nlp-dedup on one corpus; executed by ``benchmarks/dedup.py`` with the interpreter of nlp-dedup's own venv.

nlp-dedup pins ``datasketch<2`` and ``more-itertools<10``, so it cannot share the project's environment. This
script imports nothing from tweetbert: the benchmark hands it texts whose words are already MeCab tokens joined
by single spaces, which nlp-dedup's ``doc.split(" ")`` then sees as words.

Input: a JSON-lines file, one JSON string per document. Output: ``cluster.npy`` (int64, the row of each row's
representative) and ``info.json`` in the output folder.

nlp-dedup only says which documents it drops (its mask). To score clusters too, the LSH index's ``query`` is
wrapped on the instance to record the smallest key it returned: nlp-dedup inserts only the documents it keeps,
so that key is a kept document the dropped one collided with. The wrapper returns the tool's answer unchanged,
so nlp-dedup's decisions are exactly its own.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--ngram", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=0.2)
    parser.add_argument("--num-perm", type=int, default=128)
    args = parser.parse_args()

    from nlp_dedup import Deduper

    with open(args.input, encoding="utf-8") as handle:
        texts = [json.loads(line) for line in handle]
    started = time.perf_counter()
    # n_jobs=-1 (all cores, through joblib) and random_seed=4242 are nlp-dedup's shipped defaults.
    deduper = Deduper(
        split_method="word_ngram", ngram_size=args.ngram, ngram_stride=1,
        similarity_threshold=args.threshold, num_minhashes=args.num_perm, n_jobs=-1,
        save_mask=True, store_corpus_to_disk=False, store_mask_to_disk=False,
        store_lsh_cache_to_disk=False, store_config_to_disk=False, return_generator=False, verbose=False,
    )
    lsh = deduper.lsh_cache
    tool_query = lsh.query
    first_candidate: list[int] = []

    def recording_query(minhash):
        candidates = tool_query(minhash)
        first_candidate.append(min(candidates) if candidates else -1)
        return candidates

    lsh.query = recording_query
    with tempfile.TemporaryDirectory() as tmp:
        # Nothing is stored to disk, so nlp-dedup never creates this folder.
        deduper.deduplicate(texts, output_dir=Path(tmp) / "unused")

    if len(deduper.mask) != len(texts) or len(first_candidate) != len(texts):
        sys.exit(f"nlp-dedup returned {len(deduper.mask)} mask entries and made {len(first_candidate)} "
                 f"queries for {len(texts)} documents")
    duplicate = np.array([entry["duplicate"] for entry in deduper.mask], dtype=bool)
    cluster = np.arange(len(texts), dtype=np.int64)
    cluster[duplicate] = np.array(first_candidate, dtype=np.int64)[duplicate]
    args.output.mkdir(parents=True, exist_ok=True)
    np.save(args.output / "cluster.npy", cluster)
    info = {
        "seconds_inside_nlp_dedup": time.perf_counter() - started,
        "bands": lsh.b, "rows": lsh.r, "n_jobs": deduper.n_jobs,
        "nlp_dedup": version("nlp-dedup"), "datasketch": version("datasketch"),
    }
    (args.output / "info.json").write_text(json.dumps(info))


if __name__ == "__main__":
    main()
