"""Text normalisation shared by every later stage, so that dedup, the vocabulary and the model see the same text.

NFKC matches what the Japanese BERT tokenizer applies; URLs and @mentions become placeholder tokens because
their surface forms are near-unique noise (and MeCab shreds URLs into many pieces).
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from dataclasses import asdict
from pathlib import Path

import pyarrow as pa
from tqdm import tqdm

from tweetbert.corpus.io import CORPUS_COLUMNS, CorpusWriter, corpus_batches, corpus_rows
from tweetbert.corpus.settings import NormalizeOptions
from tweetbert.errors import InputError
from tweetbert.parallel import ordered_map

URL_TOKEN = "[URL]"
USER_TOKEN = "[USER]"
PLACEHOLDERS = (URL_TOKEN, USER_TOKEN)

URL_PATTERN = re.compile(r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]+", re.IGNORECASE)
MENTION_PATTERN = re.compile(r"(?<![A-Za-z0-9_@])@[A-Za-z0-9_]{1,15}\b")
_SPACES = re.compile(r"[^\S\n]+")
_NEWLINES = re.compile(r"\s*\n\s*")


def normalize_text(text: str, options: NormalizeOptions = NormalizeOptions()) -> str:
    """Normalises one tweet. NFKC runs first so full-width URLs and mentions (ｈｔｔｐｓ：／／…, ＠ｕｓｅｒ) are caught too."""
    if options.nfkc:
        text = unicodedata.normalize("NFKC", text)
    if options.replace_urls:
        text = URL_PATTERN.sub(URL_TOKEN, text)
    if options.replace_mentions:
        text = MENTION_PATTERN.sub(USER_TOKEN, text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if options.keep_newlines:
        text = _NEWLINES.sub("\n", text)
    else:
        text = text.replace("\n", " ")
    return _SPACES.sub(" ", text).strip()


def normalize_texts(texts: list[str], options: NormalizeOptions = NormalizeOptions()) -> list[str]:
    return [normalize_text(text, options) for text in texts]


def _normalize_batch(job: tuple[list[str], NormalizeOptions]) -> list[str]:
    texts, options = job
    return normalize_texts(texts, options)


def normalize_corpus(corpus: Path, output: Path, options: NormalizeOptions = NormalizeOptions(), *,
                     workers: int = 1) -> dict:
    """Normalises a corpus's text batch by batch on ``workers`` processes, the other columns passed through.

    Returns the stage's stats. A text that normalisation empties is an input error at its row.
    """
    columns = list(CORPUS_COLUMNS)
    counts = {"rows": 0, "tweets_with_url": 0, "tweets_with_mention": 0, "tweets_with_newline": 0}
    total = corpus_rows(corpus)
    if not total:
        raise InputError(corpus, "holds no tweets: nothing to normalise (did ingest keep none? see raw.path)")
    pending: deque[pa.RecordBatch] = deque()

    def jobs():
        for batch in corpus_batches(corpus, columns):
            pending.append(batch)
            yield batch.column(columns.index("text")).to_pylist(), options

    with CorpusWriter(output, columns) as writer, tqdm(total=total, desc="normalize", unit="tweet",
                                                        mininterval=2.0, delay=2.0) as bar:
        for texts in ordered_map(_normalize_batch, jobs(), workers):
            batch = pending.popleft()
            empty = next((i for i, text in enumerate(texts) if not text), None)
            if empty is not None:
                raise InputError(corpus, "text is empty after normalisation", row=counts["rows"] + empty + 1,
                                 column="text")
            writer.write(batch.set_column(columns.index("text"), "text", pa.array(texts, pa.large_string())))
            counts["rows"] += len(texts)
            counts["tweets_with_url"] += sum(URL_TOKEN in text for text in texts)
            counts["tweets_with_mention"] += sum(USER_TOKEN in text for text in texts)
            counts["tweets_with_newline"] += sum("\n" in text for text in texts)
            bar.update(len(texts))
    return {**counts, "options": asdict(options)}
