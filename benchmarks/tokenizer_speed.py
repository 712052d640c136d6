"""Fast batch tokenization vs transformers' BertJapaneseTokenizer, on the same generated tweets in one run.

Targets (issue: tokenizer stage): >= 3x the slow tokenizer in one process, >= 5x using both cores, with identical ids.

    python benchmarks/tokenizer_speed.py [--tweets 50000] [--vocab-size 8000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from machine_load import load_report

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=int, default=50_000)
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from transformers import AutoTokenizer

    from tweetbert.corpus.normalize import normalize_texts
    from tweetbert.demo import generate_tweets
    from tweetbert.tokenization.fast import FastTokenizer
    from tweetbert.tokenization.train import count_words, joyo_kanji, save_japanese_tokenizer, train_wordpiece

    tweets, _ = generate_tweets(args.tweets, args.seed)
    texts = normalize_texts(tweets["text"].tolist())
    tokenizer_dir = Path(tempfile.mkdtemp(prefix="tweetbert-bench-"))
    alphabet = sorted({c for text in texts for c in text if not c.isspace()} | joyo_kanji())
    save_japanese_tokenizer(train_wordpiece(count_words(texts[:20_000]), args.vocab_size, alphabet), tokenizer_dir)

    slow = AutoTokenizer.from_pretrained(tokenizer_dir)
    start = time.perf_counter()
    expected = [slow(text)["input_ids"] for text in texts]
    slow_seconds = time.perf_counter() - start

    rows = [("transformers BertJapaneseTokenizer", 1, slow_seconds, True)]
    for workers in (1, os.cpu_count() or 1):
        fast = FastTokenizer(tokenizer_dir, workers=workers)
        start = time.perf_counter()
        ids = fast.encode(texts)
        rows.append(("tweetbert FastTokenizer", workers, time.perf_counter() - start, ids == expected))

    print(f"{len(texts):,} tweets, vocabulary {len(slow):,}\n")
    print("| tokenizer | processes | tweets/s | seconds | identical ids | speed-up vs slow |")
    print("|---|---|---|---|---|---|")
    for name, workers, seconds, same in rows:
        print(f"| {name} | {workers} | {len(texts) / seconds:,.0f} | {seconds:.2f} | {'yes' if same else 'NO'} "
              f"| {slow_seconds / seconds:.1f}x |")


if __name__ == "__main__":
    with load_report():
        main()
