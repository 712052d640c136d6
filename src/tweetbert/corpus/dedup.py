"""Exact and MinHash-LSH near-duplicate detection that scales to tens of millions of tweets.

The work is cut in three steps so a cluster can spread it over many jobs, each with memory linear in its share:

1. :func:`write_signature_shard` — one shard of rows: MeCab shingles, exact-text hash and MinHash signature
   (all cores through a process pool).
2. :func:`write_band_links` — one group of LSH bands over all shards: bucket members are linked to their
   bucket's first member and the links are reduced to connected components before they are written.
3. :func:`merge_clusters` — exact-duplicate links plus every band group's links → clusters; the first row of
   each cluster is its representative, every other member is flagged ``is_duplicate``.

:func:`deduplicate` runs all three in memory for library use and benchmarks.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from tqdm import tqdm

from tweetbert.corpus.io import CORPUS_COLUMNS, CorpusWriter, corpus_batches, corpus_row_range, corpus_rows
from tweetbert.corpus.minhash import (
    LshParams,
    band_keys,
    bucket_edges,
    estimated_jaccard,
    signatures,
    sorted_unique,
)
from tweetbert.corpus.settings import DedupParams
from tweetbert.corpus.shingles import MecabWords, shingle_texts
from tweetbert.corpus.signatures import SignatureShard, load_shards

_BATCH = 4096


def text_hashes(texts: Sequence[str]) -> np.ndarray:
    """64-bit hashes of whole texts: exact duplicates share one."""
    digests = b"".join([hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest() for t in texts])
    return np.frombuffer(digests, dtype="<u8").astype(np.uint64)


_worker_words: MecabWords | None = None


def _signature_batch(args: tuple[list[str], int, int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    global _worker_words
    texts, ngram, num_hashes, seed = args
    if _worker_words is None:
        _worker_words = MecabWords()
    batch = shingle_texts(texts, ngram, _worker_words)
    return text_hashes(texts), batch.counts.astype(np.int32), signatures(batch, num_hashes, seed)


def _batches(texts: list[str], params: DedupParams) -> Iterator[tuple[list[str], int, int, int]]:
    for start in range(0, len(texts), _BATCH):
        yield texts[start : start + _BATCH], params.ngram, params.num_perm, params.seed


def compute_signatures(texts: Sequence[str], params: DedupParams, *, workers: int | None = None,
                       row_start: int = 0, progress: bool = True) -> SignatureShard:
    """Signatures of texts in input order; ``workers`` processes (default: all cores).

    Each distinct text goes through MeCab and MinHash once and its repeats (retweets, copypasta) take its values:
    the same arrays as computing every row, for less work.
    """
    # Distinct texts in first-seen order, and which one each row is.
    distinct_of_row, distinct = pd.factorize(np.asarray(texts, dtype=object), use_na_sentinel=False)
    distinct = distinct.tolist()
    workers = workers or os.cpu_count() or 1
    # Each batch's values go straight to their rows of the distinct arrays: no list of parts to concatenate,
    # which at a million tweets was one more copy of half a gigabyte of signatures.
    text_hash = np.empty(len(distinct), dtype=np.uint64)
    n_shingles = np.empty(len(distinct), dtype=np.int32)
    signature = np.empty((len(distinct), params.num_perm), dtype=np.uint32)
    with tqdm(total=len(distinct), unit="tweet", desc="minhash", disable=not progress) as bar:
        if workers == 1:
            results: Iterator = map(_signature_batch, _batches(distinct, params))
            executor = None
        else:
            executor = ProcessPoolExecutor(max_workers=workers)
            results = executor.map(_signature_batch, _batches(distinct, params))
        try:
            done = 0
            for part_hash, part_shingles, part_signature in results:
                rows = slice(done, done + len(part_hash))
                text_hash[rows], n_shingles[rows], signature[rows] = part_hash, part_shingles, part_signature
                done += len(part_hash)
                bar.update(len(part_hash))
        finally:
            if executor is not None:
                executor.shutdown()
    return SignatureShard(row_start=row_start, text_hash=text_hash[distinct_of_row],
                          n_shingles=n_shingles[distinct_of_row], signature=signature[distinct_of_row])


def shard_bounds(n_rows: int, shards: int, shard: int) -> tuple[int, int]:
    """Row range [start, stop) of one shard of a corpus; shards differ in size by at most one row."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is outside 0..{shards - 1}")
    return n_rows * shard // shards, n_rows * (shard + 1) // shards


def read_text_rows(corpus: Path, start: int, stop: int) -> list[str]:
    """The ``text`` column of rows [start, stop) of a Parquet corpus (only the row groups holding them are read)."""
    return [text for batch in corpus_row_range(corpus, ["text"], start, stop) for text in batch.column(0).to_pylist()]


def write_signature_shard(corpus: Path, out_dir: Path, params: DedupParams, *, shards: int, shard: int,
                          workers: int | None = None) -> SignatureShard:
    """Step 1 for one shard of a normalised corpus."""
    start, stop = shard_bounds(corpus_rows(corpus), shards, shard)
    result = compute_signatures(read_text_rows(corpus, start, stop), params, workers=workers, row_start=start)
    result.save(out_dir)
    return result


def band_groups(bands: int, groups: int) -> list[range]:
    """Splits band indices into ``groups`` contiguous groups (some may be empty when groups > bands)."""
    return [range(bands * g // groups, bands * (g + 1) // groups) for g in range(groups)]


def component_links(sources: np.ndarray, targets: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Reduces any set of links to (row, smallest row of its component) for rows in non-trivial components."""
    if len(sources) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    graph = coo_matrix((np.ones(len(sources), dtype=np.int8), (sources, targets)), shape=(n_rows, n_rows))
    _, labels = connected_components(graph, directed=False)
    root = np.full(labels.max() + 1, n_rows, dtype=np.int64)
    np.minimum.at(root, labels, np.arange(n_rows, dtype=np.int64))
    roots = root[labels]
    members = np.flatnonzero(roots != np.arange(n_rows))
    return members, roots[members]


def near_duplicate_links(key_sigs: np.ndarray, n_shingles: np.ndarray, lsh: LshParams, bands: Sequence[int],
                         verify_sigs: np.ndarray | None = None, threshold: float = 0.0, *, workers: int = 1,
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Candidate links over the given bands: each bucket member to the bucket's first and to the previous member.

    With ``verify_sigs`` (the full signatures) a link is kept only when the pair's estimated Jaccard similarity
    reaches ``threshold``: low-similarity pairs that share a bucket by chance would otherwise chain unrelated
    tweets into giant clusters. Documents without shingles never link. Bands and verification run on ``workers``
    threads: numpy's sorts and gathers release the GIL, so threads share the signatures without copying them.
    """
    rows = np.arange(len(key_sigs), dtype=np.int64)
    valid = n_shingles > 0

    def band_links(band: int) -> np.ndarray:
        member, first, previous = bucket_edges(band_keys(key_sigs, lsh, band), rows, valid)
        return np.concatenate([member * len(rows) + first, member * len(rows) + previous])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        pair_keys = list(pool.map(band_links, bands))
        if not pair_keys:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        member, target = np.divmod(sorted_unique(np.concatenate(pair_keys)), len(rows))
        if verify_sigs is not None:
            parts = np.array_split(np.arange(len(member)), workers)
            keep = np.concatenate(list(pool.map(
                lambda part: estimated_jaccard(verify_sigs, member[part], target[part]) >= threshold, parts)))
            member, target = member[keep], target[keep]
    return member, target


def write_band_links(shard_dirs: Sequence[Path], out_file: Path, params: DedupParams, *, groups: int,
                     group: int) -> int:
    """Step 2 for one band group over all shards; returns the number of linked rows written."""
    lsh = params.lsh
    bands = band_groups(lsh.bands, groups)[group]
    shards = load_shards(shard_dirs, text_hash=False)
    key_sigs = shards.signatures.columns(slice(bands.start * lsh.rows, bands.stop * lsh.rows))
    local = LshParams(len(bands), lsh.rows)
    sources, targets = near_duplicate_links(key_sigs, shards.n_shingles, local, range(len(bands)),
                                            shards.signatures if params.verify else None, params.threshold)
    members, roots = component_links(sources, targets, len(shards.n_shingles))
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with open(out_file, "wb") as handle:
        np.save(handle, np.stack([members, roots]))
    return len(members)


def exact_duplicate_links(text_hash: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Links of every row to the first row with the same text."""
    member, first, _ = bucket_edges(text_hash, np.arange(len(text_hash), dtype=np.int64))
    return member, first


@dataclass
class DedupResult:
    """Cluster of every row (the row number of its representative) and the counts for the stage's stats."""

    cluster_id: np.ndarray
    is_duplicate: np.ndarray
    stats: dict


def cluster_rows(text_hash: np.ndarray, n_shingles: np.ndarray, link_sets: Sequence[tuple[np.ndarray, np.ndarray]],
                 params: DedupParams) -> DedupResult:
    """Step 3: unions exact and near-duplicate links; a cluster's representative is its first row."""
    n_rows = len(text_hash)
    exact_src, exact_dst = exact_duplicate_links(text_hash)
    exact_members, _ = component_links(exact_src, exact_dst, n_rows)
    sources = np.concatenate([exact_src] + [s for s, _ in link_sets]) if n_rows else np.empty(0, np.int64)
    targets = np.concatenate([exact_dst] + [t for _, t in link_sets]) if n_rows else np.empty(0, np.int64)
    members, roots = component_links(sources, targets, n_rows)
    cluster_id = np.arange(n_rows, dtype=np.int64)
    cluster_id[members] = roots
    is_duplicate = cluster_id != np.arange(n_rows)
    sizes = np.bincount(cluster_id, minlength=n_rows)
    lsh = params.lsh
    stats = {
        "params": {**asdict(params), "bands": lsh.bands, "rows": lsh.rows},
        "rows": int(n_rows),
        "exact_duplicates": len(exact_members),
        "near_duplicates": int(is_duplicate.sum() - len(exact_members)),
        "duplicates": int(is_duplicate.sum()),
        "kept": int(n_rows - is_duplicate.sum()),
        "clusters_with_duplicates": int((sizes > 1).sum()),
        "largest_cluster": int(sizes.max()) if n_rows else 0,
        "rows_without_shingles": int((n_shingles == 0).sum()),
    }
    return DedupResult(cluster_id=cluster_id, is_duplicate=is_duplicate, stats=stats)


def merge_clusters(corpus: Path, shard_dirs: Sequence[Path], link_files: Sequence[Path], params: DedupParams,
                   output: Path) -> dict:
    """Step 3 from files: writes the corpus with ``cluster_id`` and ``is_duplicate`` added (text streamed through
    batch by batch) and returns the stats."""
    shards = load_shards(shard_dirs)
    n_rows = corpus_rows(corpus)
    if len(shards.text_hash) != n_rows:
        raise ValueError(f"signature shards cover {len(shards.text_hash)} rows but {corpus} has {n_rows}: "
                         "the shards are stale, re-run dedup_signatures")
    link_sets = []
    for path in link_files:
        pair = np.load(path, allow_pickle=False)
        link_sets.append((pair[0], pair[1]))
    result = cluster_rows(shards.text_hash, shards.n_shingles, link_sets, params)
    with CorpusWriter(output, [*CORPUS_COLUMNS, "cluster_id", "is_duplicate"]) as writer:
        start = 0
        for batch in corpus_batches(corpus, CORPUS_COLUMNS):
            rows = slice(start, start + batch.num_rows)
            writer.write(batch.append_column("cluster_id", pa.array(result.cluster_id[rows]))
                         .append_column("is_duplicate", pa.array(result.is_duplicate[rows])))
            start = rows.stop
    return result.stats


def deduplicate(texts: Sequence[str], params: DedupParams = DedupParams(), *, workers: int | None = None,
                progress: bool = False) -> DedupResult:
    """All three steps in memory: the one-call API for notebooks, tests and benchmarks."""
    workers = workers or os.cpu_count() or 1
    return cluster_shard(compute_signatures(texts, params, workers=workers, progress=progress), params,
                         workers=workers)


def cluster_shard(shard: SignatureShard, params: DedupParams, *, workers: int = 1) -> DedupResult:
    """Steps 2 and 3 in memory on signatures already computed (they depend on ngram, num_perm and seed only, so
    one set serves every threshold); the bands on ``workers`` threads."""
    links = near_duplicate_links(shard.signature, shard.n_shingles, params.lsh, range(params.lsh.bands),
                                 shard.signature if params.verify else None, params.threshold, workers=workers)
    return cluster_rows(shard.text_hash, shard.n_shingles, [links], params)

