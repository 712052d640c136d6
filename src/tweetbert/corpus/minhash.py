"""MinHash signatures and LSH banding, vectorised with numpy.

Each of the ``num_perm`` hash functions is a multiply-shift hash ``(a * x + b) >> 32`` over the 64-bit shingle
hashes (a 2-universal family). The first ``bands * rows`` values key the LSH buckets; all of them estimate the
Jaccard similarity that verifies a candidate pair (56 values would let pairs of J ≈ 0.1 pass a 0.2 threshold now
and then, and connected components would chain them). Band keys hash a band's ``rows`` values into one 64-bit
word, so bucketing is a sort.
"""

from __future__ import annotations

import numpy as np

from tweetbert.corpus.lsh import LshParams, optimal_lsh_params  # noqa: F401  (their home before corpus.lsh)
from tweetbert.corpus.shingles import ShingleBatch, _mix64

EMPTY = np.uint32(0xFFFFFFFF)
# Hashes x shingles per pass of the signature kernel (8 MB of uint64): larger passes fall out of the caches.
_CHUNK_ELEMENTS = 1 << 20


def hash_coefficients(num_hashes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Odd multipliers and offsets of the multiply-shift hash family, fixed by the seed."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**63, size=num_hashes, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=num_hashes, dtype=np.uint64)
    return a, b


def signatures(batch: ShingleBatch, num_hashes: int, seed: int) -> np.ndarray:
    """MinHash signatures, ``(documents, num_hashes)`` uint32; a document without shingles gets all ``EMPTY``.

    The shift of ``(a * x + b) >> 32`` is monotonic, so it is taken once per document and hash function after
    the minimum over the full 64-bit values, not once per shingle. Values are laid out hash function by shingle,
    so each minimum runs over contiguous memory (twice as fast as shingle by hash function).
    """
    a, b = hash_coefficients(num_hashes, seed)
    counts = batch.counts
    n_docs = len(counts)
    out = np.full((n_docs, num_hashes), EMPTY, dtype=np.uint32)
    nonempty = np.flatnonzero(counts > 0)
    if len(nonempty) == 0:
        return out
    # Process documents in chunks whose (shingles x hashes) working array stays small; one buffer serves every
    # chunk, so the kernel does not page-fault a fresh 8 MB array in each pass.
    per_chunk = max(1, _CHUNK_ELEMENTS // num_hashes)
    ends = batch.offsets[nonempty + 1]
    buffer = np.empty(per_chunk * num_hashes, dtype=np.uint64)
    lo = 0
    while lo < len(nonempty):
        first = batch.offsets[nonempty[lo]]
        hi = max(int(np.searchsorted(ends, first + per_chunk, side="right")), lo + 1)
        docs = nonempty[lo:hi]
        start, stop = batch.offsets[docs[0]], batch.offsets[docs[-1] + 1]
        width = int(stop - start)
        if width * num_hashes > len(buffer):  # one document longer than a chunk
            buffer = np.empty(width * num_hashes, dtype=np.uint64)
        values = buffer[: width * num_hashes].reshape(num_hashes, width)
        np.multiply.outer(a, batch.hashes[start:stop], out=values)
        values += b[:, None]
        minima = np.minimum.reduceat(values, batch.offsets[docs] - start, axis=1)
        minima >>= np.uint64(32)
        out[docs] = minima.T
        lo = hi
    return out


def band_keys(sigs: np.ndarray, params: LshParams, band: int) -> np.ndarray:
    """64-bit bucket keys of one band for every document."""
    rows = sigs[:, band * params.rows : (band + 1) * params.rows].astype(np.uint64)
    with np.errstate(over="ignore"):
        key = np.full(len(sigs), np.uint64(band + 1) * np.uint64(0x9E3779B97F4A7C15), dtype=np.uint64)
        for column in range(rows.shape[1]):
            key = _mix64(key ^ rows[:, column])
    return key


def bucket_edges(keys: np.ndarray, doc_ids: np.ndarray, valid: np.ndarray | None = None,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(member, bucket's first member, previous member) for every member of a bucket but its first.

    Linking to one or two members keeps the edge count linear in the corpus: a template bot's bucket of 13k
    tweets yields 26k edges, not the 90M pairs an all-pairs enumeration would.
    """
    if valid is not None:
        keys, doc_ids = keys[valid], doc_ids[valid]
    # Members of a bucket in ascending id: one stable sort by key when the ids come ascending (rows always do).
    ascending = len(doc_ids) < 2 or bool((doc_ids[1:] > doc_ids[:-1]).all())
    order = np.argsort(keys, kind="stable") if ascending else np.lexsort((doc_ids, keys))
    keys, doc_ids = keys[order], doc_ids[order]
    new_bucket = np.ones(len(keys), dtype=bool)
    new_bucket[1:] = keys[1:] != keys[:-1]
    bucket_first = doc_ids[np.maximum.accumulate(np.where(new_bucket, np.arange(len(keys)), 0))]
    linked = np.flatnonzero(~new_bucket)
    return doc_ids[linked], bucket_first[linked], doc_ids[linked - 1]


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Distinct values, sorted: sort + neighbour comparison (numpy 2.3+'s hash-based ``np.unique`` is far slower
    on tens of millions of int64 keys)."""
    values = np.sort(values)
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def estimated_jaccard(sigs: np.ndarray, left: np.ndarray, right: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
    """Share of agreeing hash values of row pairs: the MinHash estimate of their Jaccard similarity.

    ``sigs`` may be a memory map; rows are gathered in chunks so memory stays bounded.
    """
    out = np.empty(len(left), dtype=np.float32)
    for start in range(0, len(left), chunk):
        a = np.asarray(sigs[left[start : start + chunk]])
        b = np.asarray(sigs[right[start : start + chunk]])
        out[start : start + chunk] = np.count_nonzero(a == b, axis=1) / a.shape[1]
    return out
