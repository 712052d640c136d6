"""Stand-in annotators for the demo only: rules, not people.

The demo's tweets are generated and nobody annotates them, so the demo has no human acceptability judgements.
These rules fill the annotation sheet only so that the report stage runs end to end; the acceptability and the
kappa they give measure the rules, not the model's output, and must never be reported as human results.

Each ``label_*`` column of the sheet gets one rule, in header order, cycling when there are more than two:

* rule 1 (first column): acceptable when the replacement's coarse part of speech (UniDic ``pos1``, e.g. 名詞) equals
  the original word's;
* rule 2 (second column): acceptable when ``pos1`` and ``pos2`` (e.g. 名詞/普通名詞) both match.

Before either rule: a replacement identical to the original (after NFKC and stripping whitespace) is acceptable, as
the sentence is then the original tweet; otherwise a special token (``[UNK]``, ``[URL]``, ``[USER]``, any
``[NAME]``, the newline), a WordPiece continuation (``##…``) or a blank replacement is not, and neither is any
replacement of an original that is itself such a token.

Parts of speech come from the tokenizer's MeCab with unidic-lite, in context: the original word is tagged inside
``original_sentence`` and the replacement inside ``sentence`` (its 【 】 marks taken out), and a word's part of speech
is that of the first morpheme overlapping it other than a prefix (接頭辞). Context matters for function words: が
alone is a conjunction, after a noun a case particle. Where the key's sentences do not spell the two words in the
same place, each word is tagged on its own instead. A word MeCab yields nothing for is not acceptable.
"""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

from tweetbert.analysis.acceptability_report import (
    ACCEPTABLE,
    CLOSE_MARK,
    NOT_ACCEPTABLE,
    OPEN_MARK,
    SHEET_ENCODING,
    KeyItem,
    label_columns,
    read_key,
    read_sheet,
    read_sheet_table,
)
from tweetbert.tokenization.coverage import SPECIAL_TOKEN
from tweetbert.tokenization.mecab import CORE_SPECIAL_TOKENS, SPECIAL_WORDS, mecab_tagger

POS1, POS1_POS2 = "pos1", "pos1+pos2"
RULES = (POS1, POS1_POS2)
"""The rule of each label column, in header order, cycled."""
_PREFIX = "接頭辞"

PartOfSpeech = tuple[str, str]


def _normal(word: str) -> str:
    return unicodedata.normalize("NFKC", word).strip()


def is_unacceptable_token(word: str) -> bool:
    """A special token, a WordPiece continuation or nothing at all: never a word of a tweet."""
    text = _normal(word)
    return (not text or text.startswith("##") or bool(SPECIAL_TOKEN.fullmatch(text))
            or word in SPECIAL_WORDS or text in CORE_SPECIAL_TOKENS)


def word_context(entry: KeyItem) -> tuple[str, str] | None:
    """The text before and after the masked word, where ``sentence`` is ``original_sentence`` with the original
    replaced by the marked replacement; None where the key's sentences do not show that."""
    if entry.sentence is None or entry.original_sentence is None:
        return None
    marked = OPEN_MARK + entry.replacement + CLOSE_MARK
    start = entry.sentence.find(marked)
    while start != -1:
        before, after = entry.sentence[:start], entry.sentence[start + len(marked):]
        if before + entry.original + after == entry.original_sentence:
            return before, after
        start = entry.sentence.find(marked, start + 1)
    return None


class PartOfSpeechTagger:
    """UniDic (pos1, pos2) of a word, in its context or on its own, with the tokenizer's MeCab."""

    def __init__(self) -> None:
        self._tagger = mecab_tagger()

    def __call__(self, word: str, before: str = "", after: str = "") -> PartOfSpeech | None:
        before, word, after = (unicodedata.normalize("NFKC", part) for part in (before, word, after))
        text = before + word + after
        start, end = len(before), len(before) + len(word)
        overlapping, cursor = [], 0
        for node in self._tagger(text):
            at = text.find(node.surface, cursor)
            if at == -1:  # MeCab's surfaces are slices of the input; never seen otherwise
                return None
            cursor = at + len(node.surface)
            if at < end and cursor > start and node.surface.strip():
                overlapping.append(tuple(node.feature))
        heads = [feature for feature in overlapping if feature[0] != _PREFIX] or overlapping
        if not heads:
            return None
        head = heads[0]
        return head[0], head[1] if len(head) > 1 else "*"


def judge(original: str, replacement: str, rule: str, original_pos: PartOfSpeech | None,
          replacement_pos: PartOfSpeech | None) -> int:
    """1 (acceptable) or 0 by the rules of the module docstring, given each word's (pos1, pos2)."""
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; expected one of {RULES}")
    if _normal(original) and _normal(original) == _normal(replacement):
        return ACCEPTABLE
    if is_unacceptable_token(replacement) or is_unacceptable_token(original):
        return NOT_ACCEPTABLE
    if original_pos is None or replacement_pos is None:
        return NOT_ACCEPTABLE
    same = original_pos[0] == replacement_pos[0] if rule == POS1 else original_pos == replacement_pos
    return ACCEPTABLE if same else NOT_ACCEPTABLE


def parts_of_speech(entry: KeyItem, pos: PartOfSpeechTagger) -> tuple[PartOfSpeech | None, PartOfSpeech | None]:
    """(pos1, pos2) of the original and of the replacement, in context where the key allows."""
    context = word_context(entry) or ("", "")
    return pos(entry.original, *context), pos(entry.replacement, *context)


def _line_ending(path: Path) -> str:
    first = Path(path).read_bytes().split(b"\n", 1)[0]
    return "\r\n" if first.endswith(b"\r") else "\n"


def annotate_demo_sheet(key: Path, sheet: Path, out: Path) -> Path:
    """Writes a copy of ``sheet`` to ``out`` with every ``label_*`` column filled by the stand-in rules (see the
    module docstring: not human judgements, demo only); same encoding, delimiter and line ends as the sheet."""
    items = read_key(key)
    table, index = read_sheet_table(sheet, items)
    columns = [table.header.index(name) for name in label_columns(table.header)]
    pos = PartOfSpeechTagger()
    records = [list(fields) for _, fields in table.records]
    for item, position in index.items():
        entry = items[item]
        original_pos, replacement_pos = parts_of_speech(entry, pos)
        for number, column in enumerate(columns):
            label = judge(entry.original, entry.replacement, RULES[number % len(RULES)], original_pos,
                          replacement_pos)
            records[position][column] = str(label)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding=SHEET_ENCODING, newline="") as handle:
        writer = csv.writer(handle, lineterminator=_line_ending(sheet))
        writer.writerow(table.header)
        writer.writerows(records)
    read_sheet(out, items)  # what the report will read: fails here, not there, if it does not validate
    return out
