"""Word segmentation exactly as the Japanese BERT v3 tokenizer does it: NFKC, then MeCab with unidic-lite.

Special tokens (``[URL]``, ``[USER]``, the newline) are cut out *before* MeCab, as transformers' added-token
trie does, because MeCab would shred ``[URL]`` into ``[ URL ]`` and drop newlines.
"""

from __future__ import annotations

import re
import unicodedata

from tweetbert.corpus.normalize import URL_TOKEN, USER_TOKEN
from tweetbert.mecab import mecab_tagger

NEWLINE_TOKEN = "\n"
# Cut out before MeCab; in the vocabulary file except the newline, which cannot be a line of vocab.txt and is
# therefore an added token with the id right after the vocabulary.
SPECIAL_WORDS = (URL_TOKEN, USER_TOKEN, NEWLINE_TOKEN)
CORE_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
_SPECIAL_SPLIT = re.compile("(" + "|".join(re.escape(token) for token in SPECIAL_WORDS) + ")")


class JapaneseWords:
    """Pre-tokenisation of one text into MeCab words, with the special tokens kept as words of their own.

    Differs from the corpus wrappers because it must match BertJapaneseTokenizer: NFKC, and ``[URL]``, ``[USER]`` and
    the newline kept as words.
    """

    def __init__(self) -> None:
        self._parse = mecab_tagger().parse

    def words(self, text: str, keep_special: bool = True) -> list[str]:
        out: list[str] = []
        for piece in _SPECIAL_SPLIT.split(text):
            if not piece:
                continue
            if piece in SPECIAL_WORDS:
                if keep_special:
                    out.append(piece)
            else:
                out.extend(self._parse(unicodedata.normalize("NFKC", piece)).split())
        return out
