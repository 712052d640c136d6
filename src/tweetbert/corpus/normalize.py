"""Text normalisation shared by every later stage, so that dedup, the vocabulary and the model see the same text.

NFKC matches what the Japanese BERT tokenizer applies; URLs and @mentions become placeholder tokens because
their surface forms are near-unique noise (and MeCab shreds URLs into many pieces).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from tweetbert.settings import mirrors

URL_TOKEN = "[URL]"
USER_TOKEN = "[USER]"
PLACEHOLDERS = (URL_TOKEN, USER_TOKEN)

URL_PATTERN = re.compile(r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]+", re.IGNORECASE)
MENTION_PATTERN = re.compile(r"(?<![A-Za-z0-9_@])@[A-Za-z0-9_]{1,15}\b")
_SPACES = re.compile(r"[^\S\n]+")
_NEWLINES = re.compile(r"\s*\n\s*")


@mirrors("normalize")
@dataclass(frozen=True)
class NormalizeOptions:
    """Each switch of the normalisation, as in the config's ``normalize`` section."""

    nfkc: bool = True
    replace_urls: bool = True
    replace_mentions: bool = True
    keep_newlines: bool = True


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
