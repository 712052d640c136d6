"""The one MeCab tagger of a process, shared by every word segmentation in the package.

Each wrapper around it treats placeholders its own way (the tokenizer keeps ``[URL]`` as a word, dedup shingles
drop it, corpus statistics split at it), but all segment with this tagger, so their words agree. It lives outside
``corpus`` and ``tokenization`` because both use it and ``tokenization`` reads corpora.
"""

from __future__ import annotations

import functools
import os


@functools.cache
def mecab_tagger():
    """The tagger BertJapaneseTokenizer builds for ``mecab_dic="unidic_lite"``, in wakati (space-separated) mode.

    One per process, shared by every caller: each tagger maps the 250 MB dictionary anew, and a process that made
    one per corpus, tokenizer and table (as the test suite does) held gigabytes of the same pages.
    """
    import fugashi
    import unidic_lite

    dic_dir = unidic_lite.DICDIR
    return fugashi.GenericTagger(f'-d "{dic_dir}" -r "{os.path.join(dic_dir, "mecabrc")}" -Owakati')
