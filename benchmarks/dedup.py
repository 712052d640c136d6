"""Near-duplicate detection, side by side: tweetbert's dedup against rensa, datasketch and nlp-dedup.

Every tool gets the same input: the demo corpus (``generate_tweets(n, seed=0)``) after ``normalize_text``, and
the same shingles: word 5-grams of MeCab tokens (``MecabWords``, placeholders dropped; a text with fewer than
five words is one shingle of all its words; a text without words is one shingle of its whole text, so it can only
be an exact duplicate). Each tool runs in a fresh process (this script with ``--worker TOOL``); its time covers
the whole pipeline from normalised text to clusters, MeCab included. Quality is scored against the planted
truth clusters.

    python benchmarks/dedup.py                                  # 200k and 1M, every tool
    python benchmarks/dedup.py --sizes 200000 --peers ours,rensa
    python benchmarks/dedup.py --skip-slow                      # extrapolate slow peers at 1M instead

How each tool is driven (threshold 0.2, 128 permutations, word 5-grams everywhere):

* **ours** — ``tweetbert.corpus.dedup.deduplicate`` with all cores: MinHash, LSH with the bands x rows the
  threshold calls for (28 x 2), candidates verified by estimated Jaccard on all 128 values, connected
  components. It shingles each distinct text once (a repeated text takes its first occurrence's signature).
* **rensa** — ``RMinHash`` (128 permutations, built in bulk with ``from_token_sets``) and ``RMinHashLSH``. Its
  LSH needs ``num_perm`` divisible by ``num_bands``, so 28 bands of 2 rows (our banding) cannot be had with 128
  permutations; it runs 64 bands x 2 rows, whose S-curve crosses 0.5 at J = (1/64)^(1/2) = 0.125 (ours, 28 x 2:
  0.19) and catches a pair of J = 0.2 with probability 0.93 (ours 0.68). Its ``threshold`` argument does not
  filter queries, so candidates are verified by estimated Jaccard >= 0.2 like ours.
* **datasketch** — ``MinHash.generator`` (``update_batch`` per document, 128 permutations) and
  ``MinHashLSH(threshold=0.2, num_perm=128)``, which picks 28 x 2 itself.
* rensa and datasketch stream the corpus once, query then insert: a document is linked to the first candidate
  (smallest row first) whose estimated Jaccard reaches 0.2; a document that links to none becomes a
  representative and is inserted. Only representatives are indexed, so a template bot's bucket never holds more
  than a few rows and no bucket is scanned pair by pair; the links form a union-find forest whose roots are the
  representatives.
* **mecab-alone** — the floor every tool shares: the same texts through the same tagger (``mecab_tagger().parse``
  per text, nothing else) in as many processes as ours, in batches of ours' size. Our wall and CPU seconds are
  reported as multiples of it, and nlp-dedup's too: since nlp-dedup ÷ ours = (nlp-dedup ÷ MeCab alone) ÷ (ours ÷
  MeCab alone), the "floor" line says whether the 20× target is reachable above ours' own floor (MeCab on the
  distinct texts ours parses, and nothing else).
* **nlp-dedup** — the tool of the reference study, in its own venv (it pins ``datasketch<2`` and
  ``more-itertools<10``), run by ``benchmarks/peers/nlp_dedup_runner.py`` on texts whose words are the MeCab
  tokens joined by spaces (so its ``split(" ")`` sees MeCab tokens; it also strips ``.,:;!?()[]{}`` itself).
  It keeps nlp-dedup's defaults otherwise: joblib over all cores for MinHash, no verification of LSH candidates.

Peak memory is the high-water mark of the tool's process tree: the larger of the sum of PSS (proportional set
size, so pages a forked pool shares are not counted twice) sampled every 0.2 s and the kernel's RSS high-water
mark of any single process in the tree. Every worker first loads the pickled texts, which is in the peak too.
"""

from __future__ import annotations

import os
import sys

from machine_load import load_report

# Run as a script, this folder is sys.path[0]: a sibling benchmark named like a standard module (tokenize.py)
# would shadow it for everything imported below (dataclasses -> inspect -> tokenize, pandas, ...).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != _HERE]

import argparse
import json
import pickle
import resource
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

NGRAM = 5
THRESHOLD = 0.2
NUM_PERM = 128
CORPUS_SEED = 0
RENSA_SEED = 0
RENSA_BANDS = 64  # 128 permutations must divide evenly: 64 x 2 is the banding nearest ours (28 x 2)
DATASKETCH_SEED = 1
CHUNK = 10_000  # documents per MeCab/MinHash chunk in the streaming peers
NLP_DEDUP_REQUIREMENT = "nlp-dedup==0.1.2"
ALL_TOOLS = ("ours", "mecab-alone", "rensa", "datasketch", "nlp-dedup")
MECAB_BATCH = 4096  # texts per task of the MeCab-alone pool: the batch size of ours' signature pool
# Targets printed beside the measured figures.
TARGET_OVER_MECAB = 1.3  # ours' wall seconds / MeCab alone's
TARGET_OVER_NLP_DEDUP = 20.0  # nlp-dedup's wall seconds / ours'
TARGET_CPU_OVER_RENSA = 1.0  # ours' CPU seconds / rensa's
TARGET_SCALING_200K_1M = 5.3  # ours' seconds at 1M / at 200k
SINGLE_PROCESS_NOTE = "1 (as shipped)"

REPO = Path(__file__).resolve().parents[1]
DEFAULT_NLP_DEDUP_VENV = REPO / ".bench-venvs" / "nlp-dedup"
NLP_DEDUP_RUNNER = Path(__file__).resolve().parent / "peers" / "nlp_dedup_runner.py"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------- corpus

def load_corpus(n_tweets: int) -> tuple[list[str], np.ndarray]:
    """Normalised texts and truth cluster labels of the demo corpus, in corpus order."""
    from tweetbert.corpus.normalize import normalize_text
    from tweetbert.demo import generate_tweets

    tweets, truth = generate_tweets(n_tweets, seed=CORPUS_SEED)
    labels = tweets["id"].map(truth.set_index("id")["cluster"]).to_numpy(dtype=np.int64)
    return [normalize_text(text) for text in tweets["text"].tolist()], labels


def shingles_of(words: list[str], text: str) -> list[str]:
    """Word 5-grams joined by a space; short texts are one shingle; a text without words is its own shingle."""
    if not words:
        return ["\x00" + text]
    if len(words) < NGRAM:
        return [" ".join(words)]
    return [" ".join(words[i : i + NGRAM]) for i in range(len(words) - NGRAM + 1)]


def peer_shingles(texts: Sequence[str]) -> Iterator[tuple[int, list[list[str]]]]:
    """(first row, shingles of each text) chunk by chunk, MeCab-tokenised in this process."""
    from tweetbert.corpus.shingles import MecabWords

    words = MecabWords()
    for start in range(0, len(texts), CHUNK):
        yield start, [shingles_of(words.words(text), text) for text in texts[start : start + CHUNK]]


# --------------------------------------------------------------------------------------------------- tools

def first_verified(candidates: list[int], verifies: Callable[[int], bool]) -> int | None:
    """The smallest candidate that passes verification, trying the smallest one alone first (the usual hit)."""
    if not candidates:
        return None
    smallest = min(candidates)
    if verifies(smallest):
        return smallest
    for candidate in sorted(candidates):
        if candidate != smallest and verifies(candidate):
            return candidate
    return None


def stream_clusters(n_docs: int, minhash_chunks: Iterator[tuple[int, list]], query: Callable,
                    insert: Callable, jaccard: Callable) -> tuple[np.ndarray, dict]:
    """Query-then-insert over the corpus; returns each row's representative row (union-find roots)."""
    parent = np.arange(n_docs, dtype=np.int64)
    representatives: dict[int, object] = {}
    candidates_seen = 0
    started = time.perf_counter()
    for start, minhashes in minhash_chunks:
        for offset, minhash in enumerate(minhashes):
            row = start + offset
            candidates = query(minhash)
            candidates_seen += len(candidates)
            match = first_verified(candidates, lambda c, m=minhash: jaccard(m, representatives[c]) >= THRESHOLD)
            if match is None:
                insert(row, minhash)
                representatives[row] = minhash
            else:
                parent[row] = match  # match is a representative, i.e. a root: the forest stays one level deep
        done = start + len(minhashes)
        if done % 100_000 < CHUNK or done == n_docs:
            log(f"  {done:,} / {n_docs:,} docs, {done / (time.perf_counter() - started):,.0f} docs/s")
    return parent, {"representatives": len(representatives), "candidates_returned": candidates_seen}


def run_ours(texts: Sequence[str], workers: int | None) -> tuple[np.ndarray, dict]:
    from tweetbert.corpus.dedup import DedupParams, deduplicate

    params = DedupParams(ngram=NGRAM, threshold=THRESHOLD, num_perm=NUM_PERM)
    result = deduplicate(texts, params, workers=workers)
    info = {"bands": params.lsh.bands, "rows": params.lsh.rows,
            "largest_cluster": result.stats["largest_cluster"]}
    return result.cluster_id, info


def _parse_batch(texts: list[str]) -> int:
    from tweetbert.tokenization.mecab import mecab_tagger

    parse = mecab_tagger().parse
    return sum(len(parse(text)) for text in texts)


def run_mecab_alone(texts: Sequence[str], workers: int | None) -> tuple[None, dict]:
    """Only MeCab: every text parsed once by the tagger ours uses, in a pool of as many processes as ours."""
    from concurrent.futures import ProcessPoolExecutor

    batches = (list(texts[start : start + MECAB_BATCH]) for start in range(0, len(texts), MECAB_BATCH))
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count()) as pool:
        output_chars = sum(pool.map(_parse_batch, batches))
    return None, {"output_chars": output_chars}


def run_rensa(texts: Sequence[str]) -> tuple[np.ndarray, dict]:
    from rensa import RMinHash, RMinHashLSH

    lsh = RMinHashLSH(THRESHOLD, NUM_PERM, RENSA_BANDS)
    chunks = ((start, RMinHash.from_token_sets(shingles, NUM_PERM, RENSA_SEED))
              for start, shingles in peer_shingles(texts))
    cluster, info = stream_clusters(len(texts), chunks, lsh.query, lsh.insert, lambda a, b: a.jaccard(b))
    return cluster, {**info, "bands": RENSA_BANDS, "rows": NUM_PERM // RENSA_BANDS}


def run_datasketch(texts: Sequence[str]) -> tuple[np.ndarray, dict]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    chunks = ((start, list(MinHash.generator(([s.encode("utf-8") for s in doc] for doc in shingles),
                                             num_perm=NUM_PERM, seed=DATASKETCH_SEED)))
              for start, shingles in peer_shingles(texts))
    cluster, info = stream_clusters(len(texts), chunks, lsh.query, lsh.insert, lambda a, b: a.jaccard(b))
    return cluster, {**info, "bands": lsh.b, "rows": lsh.r}


def run_nlp_dedup(texts: Sequence[str], python: Path) -> tuple[np.ndarray, dict]:
    """MeCab here, then nlp-dedup in its own interpreter on texts of space-joined MeCab tokens."""
    from tweetbert.corpus.shingles import MecabWords

    words = MecabWords()
    with tempfile.TemporaryDirectory(prefix="nlp-dedup-") as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        with open(corpus, "w", encoding="utf-8") as handle:
            for text in texts:
                tokens = words.words(text)
                handle.write(json.dumps(" ".join(tokens) if tokens else text, ensure_ascii=False) + "\n")
        log("  MeCab done, running nlp-dedup")
        out = Path(tmp) / "out"
        command = [str(python), str(NLP_DEDUP_RUNNER), "--input", str(corpus), "--output", str(out),
                   "--ngram", str(NGRAM), "--threshold", str(THRESHOLD), "--num-perm", str(NUM_PERM)]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise RuntimeError(f"nlp-dedup failed (exit {completed.returncode}): {completed.stderr[-2000:]}")
        return np.load(out / "cluster.npy"), json.loads((out / "info.json").read_text())


def ensure_nlp_dedup(venv: Path) -> Path:
    """nlp-dedup's own venv, created from PyPI on first use; returns its interpreter or raises RuntimeError."""
    python = venv / "bin" / "python"
    if python.exists() and subprocess.run([str(python), "-c", "import nlp_dedup"],
                                          capture_output=True, check=False).returncode == 0:
        return python
    log(f"setting up nlp-dedup in {venv} (one-off, ~10 s)")
    manual = f"{sys.executable} -m venv {venv} && {python} -m pip install '{NLP_DEDUP_REQUIREMENT}'"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, text=True)
        # Ignore the venv's content from inside, whatever the repository's .gitignore says.
        (venv / ".gitignore").write_text("*\n")
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", NLP_DEDUP_REQUIREMENT],
                       check=True, capture_output=True, text=True)
    except (subprocess.CalledProcessError, OSError) as error:
        detail = getattr(error, "stderr", None) or str(error)
        raise RuntimeError(f"could not install {NLP_DEDUP_REQUIREMENT} into {venv}: {detail.strip()[-800:]}\n"
                           f"Try by hand: {manual}") from error
    return python


# --------------------------------------------------------------------------------------------------- worker

def worker_main(args: argparse.Namespace) -> None:
    """One tool on one corpus in this fresh process: time it and write the clusters."""
    with open(args.input, "rb") as handle:
        texts = pickle.load(handle)
    log(f"{args.worker}: {len(texts):,} texts loaded, running")
    started = time.perf_counter()
    if args.worker == "ours":
        cluster, info = run_ours(texts, args.ours_workers)
    elif args.worker == "mecab-alone":
        cluster, info = run_mecab_alone(texts, args.ours_workers)
    elif args.worker == "rensa":
        cluster, info = run_rensa(texts)
    elif args.worker == "datasketch":
        cluster, info = run_datasketch(texts)
    elif args.worker == "nlp-dedup":
        cluster, info = run_nlp_dedup(texts, Path(args.nlp_dedup_python))
    else:
        raise SystemExit(f"unknown tool {args.worker}")
    seconds = time.perf_counter() - started
    info["distinct_texts"] = len(set(texts))  # after the clock stopped: the floor line's share of MeCab work
    if cluster is not None:
        np.save(args.output / "cluster.npy", np.asarray(cluster, dtype=np.int64))
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    info.update(seconds=seconds,
                cpu_seconds=own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
                maxrss_self_kb=own.ru_maxrss, maxrss_children_kb=children.ru_maxrss)
    (args.output / "info.json").write_text(json.dumps(info))
    log(f"{args.worker}: done in {seconds:.1f} s")


class TreeSampler(threading.Thread):
    """Samples a process and its descendants: peak summed PSS (RSS where PSS is unreadable), and the CPU time
    of every process seen, which also covers workers a tool never reaps (joblib's loky pool)."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak, self._halt = pid, interval, 0, threading.Event()
        self.cpu: dict[int, float] = {}

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())

    def run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._halt.is_set():
            total = 0
            try:
                processes = [root] + root.children(recursive=True)
            except psutil.NoSuchProcess:
                return
            for process in processes:
                try:
                    info = process.memory_full_info()
                    total += getattr(info, "pss", info.rss)
                    times = process.cpu_times()
                    self.cpu[process.pid] = times.user + times.system
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    pass
            self.peak = max(self.peak, total)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


@dataclass
class Measurement:
    tool: str
    n: int
    workers: str
    seconds: float | None = None
    peak_mb: float | None = None
    cluster: np.ndarray | None = None
    info: dict = field(default_factory=dict)
    note: str = ""  # why there is no measurement (not installed, failed, skipped)


def _busy_cpu_seconds(times) -> float:
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def wait_for_idle(max_wait: float, busy_limit: float = 0.25) -> None:
    """Waits (at most max_wait seconds) until other processes use under busy_limit cores over 2 s."""
    import psutil

    deadline = time.monotonic() + max_wait
    while True:
        before = _busy_cpu_seconds(psutil.cpu_times())
        time.sleep(2.0)
        busy = (_busy_cpu_seconds(psutil.cpu_times()) - before) / 2.0
        if busy < busy_limit or time.monotonic() >= deadline:
            if busy >= busy_limit:
                log(f"  machine still busy ({busy:.2f} cores), starting anyway")
            return
        log(f"  machine busy ({busy:.2f} cores in use), waiting")


def workers_label(tool: str, args: argparse.Namespace) -> str:
    if tool in ("ours", "mecab-alone"):
        return str(args.ours_workers or os.cpu_count())
    if tool == "nlp-dedup":
        return f"{os.cpu_count()} for MinHash (joblib, as shipped), 1 for MeCab and LSH"
    return SINGLE_PROCESS_NOTE


def run_worker(tool: str, corpus_file: Path, workdir: Path, args: argparse.Namespace, n: int) -> Measurement:
    """Runs one tool in a fresh process and collects its time, peak memory and clusters."""
    import psutil

    workers = workers_label(tool, args)
    out = workdir / f"{tool}-{n}"
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", tool, "--input", str(corpus_file),
               "--output", str(out)]
    if args.ours_workers:
        command += ["--ours-workers", str(args.ours_workers)]
    if tool == "nlp-dedup":
        command += ["--nlp-dedup-python", str(args.nlp_dedup_python)]
    cpu_before, wall_before = _busy_cpu_seconds(psutil.cpu_times()), time.perf_counter()
    process = subprocess.Popen(command)
    sampler = TreeSampler(process.pid)
    sampler.start()
    try:
        returncode = process.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        sampler.stop()
        return Measurement(tool, n, workers, note=f"timed out after {args.timeout} s")
    sampler.stop()
    if returncode != 0:
        return Measurement(tool, n, workers, note=f"failed (exit {returncode}, see stderr)")
    info = json.loads((out / "info.json").read_text())
    info["cpu_seconds"] = max(info["cpu_seconds"], sampler.cpu_seconds)
    # Cores kept busy by anything outside the tool's process tree while it ran (other users of the machine).
    other = _busy_cpu_seconds(psutil.cpu_times()) - cpu_before - info["cpu_seconds"]
    info["other_cores"] = max(0.0, other / (time.perf_counter() - wall_before))
    peak_kb = max(sampler.peak / 1024, info["maxrss_self_kb"], info["maxrss_children_kb"])
    cluster_file = out / "cluster.npy"
    return Measurement(tool, n, workers, seconds=info["seconds"], peak_mb=peak_kb / 1024,
                       cluster=np.load(cluster_file) if cluster_file.exists() else None, info=info)


# --------------------------------------------------------------------------------------------------- metrics

def _pairs(counts: np.ndarray) -> int:
    counts = counts.astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def _duplicate_flags(labels: np.ndarray) -> np.ndarray:
    """A row is a duplicate when it is not the first row of its cluster."""
    flags = np.ones(len(labels), dtype=bool)
    flags[np.unique(labels, return_index=True)[1]] = False
    return flags


def _prf(tp: int, predicted: int, actual: int) -> tuple[float, float, float]:
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def quality(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Pair-counting precision/recall/F1 from contingency counts, and the same for duplicate flags."""
    pred = np.unique(predicted, return_inverse=True)[1].astype(np.int64)
    true = np.unique(truth, return_inverse=True)[1].astype(np.int64)
    _, cells = np.unique(pred * (true.max() + 1) + true, return_counts=True)
    pair_p, pair_r, pair_f1 = _prf(_pairs(cells), _pairs(np.bincount(pred)), _pairs(np.bincount(true)))
    pred_dup, true_dup = _duplicate_flags(pred), _duplicate_flags(true)
    flag_p, flag_r, flag_f1 = _prf(int((pred_dup & true_dup).sum()), int(pred_dup.sum()), int(true_dup.sum()))
    return {"pair_p": pair_p, "pair_r": pair_r, "pair_f1": pair_f1,
            "flag_p": flag_p, "flag_r": flag_r, "flag_f1": flag_f1,
            "clusters": int(pred.max() + 1), "largest": int(np.bincount(pred).max())}


# --------------------------------------------------------------------------------------------------- report

def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def floor_line(nlp_over_mecab: float, ours_over_mecab: float, distinct_share: float) -> str:
    """Whether the nlp-dedup target can be met at all. Every tool runs MeCab, and nlp-dedup ÷ ours =
    (nlp-dedup ÷ MeCab alone) ÷ (ours ÷ MeCab alone); ours' own floor is MeCab on its distinct texts only."""
    needed = nlp_over_mecab / TARGET_OVER_NLP_DEDUP
    verdict = (f"20× needs ours ≤ {needed:.2f} × MeCab alone, " +
               ("below" if needed < distinct_share else "above") +
               f" ours' floor of {distinct_share:.2f} (MeCab on its distinct texts, {distinct_share:.0%} of rows, "
               "and nothing else)")
    return (f"- floor: nlp-dedup ÷ MeCab alone = {nlp_over_mecab:.1f} (wall); {verdict}; ours at "
            f"{ours_over_mecab:.2f} × MeCab alone gives {nlp_over_mecab / ours_over_mecab:.1f}×, the "
            f"≤ {TARGET_OVER_MECAB} target {nlp_over_mecab / TARGET_OVER_MECAB:.1f}×, ours at its floor "
            f"{nlp_over_mecab / distinct_share:.1f}×")


def target_lines(rows: list[Measurement], scores: dict[str, dict]) -> list[str]:
    """Ours against each target, the measured figure printed beside the target."""
    by_tool = {m.tool: m for m in rows if m.seconds is not None}
    ours = by_tool["ours"]
    cpu_ours = ours.info["cpu_seconds"]
    lines = []
    mecab = by_tool.get("mecab-alone")
    if mecab:
        wall, cpu = ours.seconds / mecab.seconds, cpu_ours / mecab.info["cpu_seconds"]
        lines.append(f"- ours ÷ MeCab alone, wall seconds: {wall:.2f} (target ≤ {TARGET_OVER_MECAB}: "
                     f"{_verdict(wall <= TARGET_OVER_MECAB)}); CPU seconds: {cpu:.2f}, so MeCab is "
                     f"{100 / cpu:.0f} % of our CPU time")
    for peer, target, label in (("nlp-dedup", TARGET_OVER_NLP_DEDUP, "nlp-dedup's wall seconds ÷ ours"),
                                ("rensa", 1.0, "rensa's wall seconds ÷ ours")):
        if peer in by_tool:
            speedup = by_tool[peer].seconds / ours.seconds
            f1_ours, f1_peer = scores["ours"]["pair_f1"], scores[peer]["pair_f1"]
            met = speedup >= target and f1_ours >= f1_peer - 1e-4
            lines.append(f"- {label}: {speedup:.1f}× at pair F1 {f1_ours:.4f} vs {f1_peer:.4f} "
                         f"(target ≥ {target:g}× at equal or better F1: {_verdict(met)})")
    if mecab and "nlp-dedup" in by_tool:
        lines.append(floor_line(by_tool["nlp-dedup"].seconds / mecab.seconds, ours.seconds / mecab.seconds,
                                ours.info["distinct_texts"] / ours.n))
    if "rensa" in by_tool:
        ratio = cpu_ours / by_tool["rensa"].info["cpu_seconds"]
        met = ratio <= TARGET_CPU_OVER_RENSA and scores["ours"]["pair_f1"] >= scores["rensa"]["pair_f1"] - 1e-4
        lines.append(f"- ours ÷ rensa, CPU seconds: {ratio:.2f} ({cpu_ours:,.1f} vs "
                     f"{by_tool['rensa'].info['cpu_seconds']:,.1f}; target ≤ {TARGET_CPU_OVER_RENSA} at equal or "
                     f"better F1: {_verdict(met)})")
    return lines


def render_table(n: int, rows: list[Measurement], truth: np.ndarray) -> str:
    """One markdown table for one corpus size, then how ours fares against the targets."""
    ours = next((m for m in rows if m.tool == "ours" and m.seconds), None)
    header = ("| tool | workers | tweets/s | seconds | CPU s | peak MB | pair P | pair R | pair F1 "
              "| dup-flag P | dup-flag R | ours ÷ tool (speed) |")
    lines = [f"### {n:,} tweets", "", header, "|" + "---|" * 12]
    scores: dict[str, dict] = {}
    for m in rows:
        if m.seconds is None:
            lines.append(f"| {m.tool} | {m.workers} |" + " – |" * 9 + f" {m.note} |")
            continue
        ratio = f"{m.seconds / ours.seconds:.2f}×" if ours else "–"
        if m.cluster is None:
            scored = " – | – | – | – | – "
        else:
            q = scores[m.tool] = quality(m.cluster, truth)
            scored = (f" {q['pair_p']:.4f} | {q['pair_r']:.4f} | {q['pair_f1']:.4f} "
                      f"| {q['flag_p']:.4f} | {q['flag_r']:.4f} ")
        lines.append(
            f"| {m.tool} | {m.workers} | {n / m.seconds:,.0f} | {m.seconds:,.1f} | {m.info['cpu_seconds']:,.1f} "
            f"| {m.peak_mb:,.0f} |{scored}| {ratio} |")
    lines.append("")
    for m in rows:
        if m.tool in scores:
            q = scores[m.tool]
            notes = [f"LSH {m.info.get('bands')} bands × {m.info.get('rows')} rows", f"{q['clusters']:,} clusters",
                     f"largest {q['largest']:,}"]
            if "representatives" in m.info:
                notes.append(f"{m.info['representatives']:,} representatives indexed")
            if "nlp_dedup" in m.info:
                notes.append(f"nlp-dedup {m.info['nlp_dedup']} with datasketch {m.info['datasketch']}, "
                             f"{m.info['seconds_inside_nlp_dedup']:,.1f} s inside nlp-dedup")
            lines.append(f"- {m.tool}: " + ", ".join(notes))
    busy = [f"{m.tool} {m.info['other_cores']:.2f}" for m in rows
            if m.seconds is not None and m.info.get("other_cores", 0.0) > 0.25]
    if busy:
        lines.append(f"- WARNING: other processes kept cores busy while these ran (average cores: {', '.join(busy)}); "
                     "their times may be inflated")
    truth_sizes = np.bincount(np.unique(truth, return_inverse=True)[1])
    lines.append(f"- truth: {len(truth_sizes):,} clusters, largest {truth_sizes.max():,}, "
                 f"{int((truth_sizes - 1).sum()):,} duplicates, {_pairs(truth_sizes):,} duplicate pairs")
    if ours:
        lines += target_lines(rows, scores)
    return "\n".join(lines)


def extrapolated(tool: str, n: int, results: dict[int, list[Measurement]]) -> float | None:
    """Linear extrapolation of a tool's time to n tweets from its largest measured smaller run."""
    measured = [(size, m) for size, rows in results.items() for m in rows
                if m.tool == tool and m.seconds is not None and size < n]
    if not measured:
        return None
    size, m = max(measured, key=lambda pair: pair[0])
    return m.seconds * n / size


# --------------------------------------------------------------------------------------------------- main

def profile_ours(texts: Sequence[str]) -> None:
    """cProfile of ours single-process (so MeCab and MinHash are in the profile), top functions to stderr."""
    import cProfile
    import io
    import pstats

    from tweetbert.corpus.dedup import DedupParams, deduplicate

    profiler = cProfile.Profile()
    profiler.enable()
    deduplicate(texts, DedupParams(ngram=NGRAM, threshold=THRESHOLD, num_perm=NUM_PERM), workers=1)
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(20)
    print(stream.getvalue(), file=sys.stderr)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--peers", default=",".join(ALL_TOOLS),
                        help=f"comma-separated tools to run, from {','.join(ALL_TOOLS)}")
    parser.add_argument("--skip-slow", action="store_true",
                        help="skip a peer at a size where its linear extrapolation exceeds --slow-limit")
    parser.add_argument("--slow-limit", type=float, default=240.0, help="seconds (with --skip-slow)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds one tool may run")
    parser.add_argument("--wait-idle", type=float, default=0.0,
                        help="before each tool, wait up to this many seconds for other processes to go quiet")
    parser.add_argument("--ours-workers", type=int, default=None, help="processes for ours (default: all cores)")
    parser.add_argument("--nlp-dedup-venv", type=Path, default=DEFAULT_NLP_DEDUP_VENV)
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile ours single-process at the smallest size (to stderr)")
    parser.add_argument("--worker", choices=ALL_TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--nlp-dedup-python", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.tools = [t.strip() for t in args.peers.split(",") if t.strip()]
    unknown = set(args.tools) - set(ALL_TOOLS)
    if unknown:
        parser.error(f"unknown tool(s) {', '.join(sorted(unknown))}; choose from {', '.join(ALL_TOOLS)}")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        worker_main(args)
        return
    unavailable: dict[str, str] = {}
    for tool, module in (("rensa", "rensa"), ("datasketch", "datasketch")):
        if tool in args.tools:
            try:
                __import__(module)
            except ImportError as error:
                unavailable[tool] = f"not installed ({error}); pip install -e '.[bench]'"
    if "nlp-dedup" in args.tools:
        try:
            args.nlp_dedup_python = ensure_nlp_dedup(args.nlp_dedup_venv)
        except RuntimeError as error:
            log(f"nlp-dedup unavailable, its rows will say so: {error}")
            unavailable["nlp-dedup"] = "not installed (see stderr)"

    results: dict[int, list[Measurement]] = {}
    tables = []
    with tempfile.TemporaryDirectory(prefix="bench-dedup-") as tmp:
        workdir = Path(tmp)
        for n in sorted(args.sizes):
            log(f"generating and normalising {n:,} tweets (seed {CORPUS_SEED})")
            texts, truth = load_corpus(n)
            corpus_file = workdir / f"texts-{n}.pkl"
            with open(corpus_file, "wb") as handle:
                pickle.dump(texts, handle, protocol=pickle.HIGHEST_PROTOCOL)
            if args.profile and n == min(args.sizes):
                log("profiling ours single-process")
                profile_ours(texts)
            del texts
            rows = results[n] = []
            for tool in args.tools:
                workers = workers_label(tool, args)
                if tool in unavailable:
                    rows.append(Measurement(tool, n, workers, note=unavailable[tool]))
                    continue
                estimate = extrapolated(tool, n, results)
                if args.skip_slow and tool != "ours" and estimate is not None and estimate > args.slow_limit:
                    log(f"{tool} at {n:,}: skipped, extrapolated ~{estimate:,.0f} s")
                    rows.append(Measurement(tool, n, workers, note=f"skipped, extrapolated ~{estimate:,.0f} s "
                                                                   "(linear from the smaller run)"))
                    continue
                if args.wait_idle:
                    wait_for_idle(args.wait_idle)
                log(f"{tool} at {n:,} tweets")
                rows.append(run_worker(tool, corpus_file, workdir, args, n))
            tables.append(render_table(n, rows, truth))
            print(tables[-1] + "\n", flush=True)
    ours_runs = sorted((n, m.seconds) for n, rows in results.items() for m in rows
                       if m.tool == "ours" and m.seconds is not None)
    if len(ours_runs) >= 2:
        (n0, s0), (n1, s1) = ours_runs[0], ours_runs[-1]
        target = f"target ≤ {TARGET_SCALING_200K_1M}: {_verdict(s1 / s0 <= TARGET_SCALING_200K_1M)}; " \
            if (n0, n1) == (200_000, 1_000_000) else ""
        print(f"Scaling of ours: {s1:.1f} s at {n1:,} ÷ {s0:.1f} s at {n0:,} = {s1 / s0:.2f} "
              f"({target}linear growth ⇒ {n1 / n0:.1f})")


if __name__ == "__main__":
    with load_report():
        main()
