"""Downstream task files in the formats their authors publish (WRIME TSV, JGLUE JSON, generic CSV).

They let the fine-tuning and evaluation stages run end to end on demo data through the same loaders as the
real datasets. Labels are driven by cue words in the text, with some label noise, so a tiny model can learn
them and beat chance; nothing here measures linguistic skill.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from tweetbert.demo import task_vocabulary as T
from tweetbert.demo import vocabulary as V

EMOTIONS = ("Joy", "Sadness", "Anticipation", "Surprise", "Anger", "Fear", "Disgust", "Trust")
WRIME_GROUPS = ("Writer_", "Reader1_", "Reader2_", "Reader3_", "Avg. Readers_")
_VALENCE = np.array([1, -1, 1, 0, -1, -1, -1, 1])
_JGLUE_SIZES = {"train": 600, "valid": 150, "test": 150}
_JSQUAD_PARAGRAPHS = {"train": 200, "valid": 50}
_AREA_NAMES = tuple(area for area, _ in V.AREAS)
_ENDINGS = ("", "！", "。", "…", "!!", "〜", "ね", "な")  # carry no sentiment, so labels stay word-driven
_REVIEW_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_JCOLA_SOURCES = ("Demo_1976", "Demo_1992", "Demo_2013")
_ABOUT_PERSON = ("は本当に", "はまじで", "、正直")  # before an insult and a friendly remark alike


def _pick(rng: np.random.Generator, pool: tuple[str, ...]) -> str:
    return pool[int(rng.integers(len(pool)))]


def _context(rng: np.random.Generator) -> str:
    """A neutral tweet-like opening that carries no label information."""
    kind = int(rng.integers(4))
    if kind == 0:
        return f"{_pick(rng, V.TIMES)}の{_pick(rng, V.THINGS)}、"
    if kind == 1:
        return f"{_pick(rng, _AREA_NAMES)}の{_pick(rng, V.VENUES)}で"
    if kind == 2:
        return f"{_pick(rng, V.PEOPLE)}と{_pick(rng, V.FOODS)}を食べたけど"
    return ""


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def _write_table(path: Path, frame: pd.DataFrame, sep: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if sep != "\t":
        frame.to_csv(path, sep=sep, index=False, lineterminator="\n", encoding="utf-8")
        return path
    # TSV as WRIME publishes it: raw text, no quoting (a quote in a sentence is a character).
    rows = [list(frame.columns), *([str(value) for value in row] for row in frame.itertuples(index=False))]
    if any("\t" in value or "\n" in value for row in rows for value in row):
        raise ValueError(f"{path.name}: a value holds a tab or line break, which raw TSV cannot carry")
    path.write_text("".join("\t".join(row) + "\n" for row in rows), encoding="utf-8")
    return path


def wrime_frame(n_rows: int, seed: int) -> pd.DataFrame:
    """WRIME ver2: emotion intensities (0–3) and sentiment (−2…2) for the writer, three readers and their average.

    Emotion phrases in the sentence set the writer's intensities; readers perceive them with noise.
    """
    rng = np.random.default_rng([seed, 1])
    rows = []
    for _ in range(n_rows):
        n_emotions = int(rng.choice([0, 1, 1, 1, 2]))
        chosen = rng.choice(len(EMOTIONS), size=n_emotions, replace=False)
        writer = np.zeros(len(EMOTIONS), dtype=int)
        writer[chosen] = rng.integers(1, 4, size=n_emotions)
        phrases = "、".join(_pick(rng, T.EMOTION_PHRASES[EMOTIONS[e]]) for e in chosen.tolist())
        sentence = _context(rng) + (phrases or _pick(rng, T.SENTIMENT_WORDS["neutral"])) + _pick(rng, _ENDINGS)
        noise = rng.integers(-1, 2, size=(3, len(EMOTIONS))) * (rng.random((3, len(EMOTIONS))) < 0.3)
        readers = np.clip(writer + noise * ((writer > 0) | (rng.random((3, len(EMOTIONS))) < 0.1)), 0, 3)
        average = np.floor(readers.mean(axis=0) + 0.5).astype(int)
        writer_sentiment = int(np.clip(np.rint((_VALENCE * writer).sum() / 1.5), -2, 2))
        reader_sentiment = np.clip(writer_sentiment + rng.integers(-1, 2, size=3) * (rng.random(3) < 0.3), -2, 2)
        sentiments = [writer_sentiment, *reader_sentiment.tolist(), int(np.floor(reader_sentiment.mean() + 0.5))]
        intensities = [writer, *readers, average]
        when = np.datetime64("2012-01-01T00:00") + np.timedelta64(int(rng.integers(0, 8 * 365 * 24 * 60)), "m")
        row = {
            "Sentence": sentence,
            "UserID": int(rng.integers(1, 61)),
            "Datetime": str(when).replace("-", "/").replace("T", " "),
            "Train/Dev/Test": str(rng.choice(["train", "dev", "test"], p=[0.8, 0.1, 0.1])),
        }
        for group, values, sentiment in zip(WRIME_GROUPS, intensities, sentiments):
            row.update({f"{group}{emotion}": int(v) for emotion, v in zip(EMOTIONS, values)})
            row[f"{group}Sentiment"] = int(sentiment)
        rows.append(row)
    return pd.DataFrame(rows)


def _caption(subject: str, place: str, action: str) -> str:
    return f"{subject}が{place}で{action}。"


def jnli_rows(n_rows: int, rng: np.random.Generator, first_id: int) -> list[dict]:
    """Entailment drops or generalises a detail, neutral adds one, contradiction changes or negates the action."""
    rows = []
    for i in range(n_rows):
        subject, place = _pick(rng, T.CAPTION_SUBJECTS), _pick(rng, T.CAPTION_PLACES)
        a = int(rng.integers(len(T.CAPTION_ACTIONS)))
        action, general = T.CAPTION_ACTIONS[a]
        label = ("entailment", "contradiction", "neutral")[int(rng.integers(3))]
        variant = int(rng.integers(2))
        if label == "entailment":
            hypothesis = f"{subject}が{general}。" if variant else f"{subject}が{action}。"
        elif label == "contradiction":
            other = T.CAPTION_ACTIONS[(a + 1 + int(rng.integers(len(T.CAPTION_ACTIONS) - 1))) % len(T.CAPTION_ACTIONS)]
            hypothesis = _caption(subject, place, other[0]) if variant else f"{place}には{subject}はいない。"
        else:
            hypothesis = (_caption(_pick(rng, T.CAPTION_ATTRIBUTES) + subject, place, action) if variant
                          else f"{subject}が{place}で{action}のは{_pick(rng, V.TIMES)}だ。")
        rows.append({"sentence_pair_id": str(first_id + i), "yjcaptions_id": _caption_id(rng),
                     "sentence1": _caption(subject, place, action), "sentence2": hypothesis, "label": label})
    return rows


def _caption_id(rng: np.random.Generator) -> str:
    a, b, c = rng.integers(10_000, 1_000_000, size=3).tolist()
    return f"{a}-{b}-{c}"


def jsts_rows(n_rows: int, rng: np.random.Generator, first_id: int) -> list[dict]:
    """Similarity falls with the number of caption parts (subject, place, action) that differ."""
    rows = []
    for i in range(n_rows):
        parts = [_pick(rng, T.CAPTION_SUBJECTS), _pick(rng, T.CAPTION_PLACES), _pick(rng, T.CAPTION_ACTIONS)[0]]
        changed = rng.permutation(3)[: int(rng.integers(4))]
        other = list(parts)
        for k in changed.tolist():
            pool = (T.CAPTION_SUBJECTS, T.CAPTION_PLACES, tuple(a for a, _ in T.CAPTION_ACTIONS))[k]
            other[k] = pool[(pool.index(parts[k]) + 1 + int(rng.integers(len(pool) - 1))) % len(pool)]
        sentence2 = _caption(*other) if len(changed) or rng.random() < 0.5 else f"{other[1]}で{other[0]}が{other[2]}。"
        score = float(np.clip(5.0 - 1.6 * len(changed) + rng.normal(0.0, 0.3), 0.0, 5.0))
        rows.append({"sentence_pair_id": str(first_id + i), "yjcaptions_id": _caption_id(rng),
                     "sentence1": _caption(*parts), "sentence2": sentence2, "label": round(score, 1)})
    return rows


def jcommonsenseqa_rows(n_rows: int, rng: np.random.Generator, first_id: int) -> list[dict]:
    """Which of five words belongs to the category the question names; distractors come from other categories."""
    categories = sorted(T.COMMONSENSE)
    rows = []
    for i in range(n_rows):
        c = int(rng.integers(len(categories)))
        questions, members = T.COMMONSENSE[categories[c]]
        others = [categories[k] for k in rng.permutation(len(categories)).tolist() if k != c][:4]
        choices = [_pick(rng, T.COMMONSENSE[other][1]) for other in others]
        label = int(rng.integers(5))
        choices.insert(label, _pick(rng, members))
        rows.append({"q_id": first_id + i, "question": _pick(rng, questions),
                     **{f"choice{k}": choice for k, choice in enumerate(choices)}, "label": label})
    return rows


def marc_ja_rows(n_rows: int, rng: np.random.Generator, first_id: int) -> list[dict]:
    """Product reviews (60 % positive): the closing verdict sets the label; 5 % of labels are flipped.

    A third of the reviews first praise or fault one aspect with the opposite polarity ("…は軽いけど、"), so the
    verdict, not the mere presence of a sentiment word, decides. ``first_id`` is unused: review ids are random.
    """
    rows = []
    for _ in range(n_rows):
        label = "positive" if rng.random() < 0.6 else "negative"
        other = "negative" if label == "positive" else "positive"
        product = _pick(rng, T.REVIEW_PRODUCTS)
        opening = (f"{product}を購入。", f"{_pick(rng, V.PEOPLE)}へのプレゼントに{product}を買いました。",
                   f"{_pick(rng, V.TIMES)}届いた{product}です。", f"{product}、")[int(rng.integers(4))]
        shape = rng.random()
        if shape < 1 / 3:
            middle = f"{_pick(rng, T.REVIEW_ASPECTS)}は{_pick(rng, T.REVIEW_POINTS[other])}けど、"
        elif shape < 2 / 3:
            middle = f"{_pick(rng, T.REVIEW_ASPECTS)}は普通。"
        else:
            middle = ""
        sentence = opening + middle + _pick(rng, T.REVIEW_VERDICTS[label]) + "。"
        if rng.random() < 0.05:
            label = other
        review_id = "R" + "".join(_REVIEW_ID_CHARS[k] for k in rng.integers(len(_REVIEW_ID_CHARS), size=13).tolist())
        rows.append({"sentence": sentence, "label": label, "review_id": review_id})
    return rows


def jcola_rows(n_rows: int, rng: np.random.Generator, first_id: int) -> list[dict]:
    """Sentences "[adverb][person]が[place で][thing]を[verb]。" (55 % acceptable); 5 % of labels are flipped.

    An unacceptable sentence breaks one rule: half double a case particle (母がが… / …傘をを借りた), a quarter mark
    the object with the genitive (…傘の借りた), a quarter build the past tense as dictionary form + た (作るた,
    見るた). Time adverbs always agree with the tense. A tiny model learns these cues in a few epochs; swapped
    particles or adverb–tense clashes, tried too, stayed near chance at the demo's fine-tuning budget.
    """
    rows = []
    for i in range(n_rows):
        dictionary, past, objects = T.ACCEPTABILITY_VERBS[int(rng.integers(len(T.ACCEPTABILITY_VERBS)))]
        subject, thing = _pick(rng, T.ACCEPTABILITY_SUBJECTS), _pick(rng, objects)
        is_past = bool(rng.random() < 0.5)
        verb = past if is_past else dictionary
        adverb = _pick(rng, T.PAST_ADVERBS if is_past else T.FUTURE_ADVERBS) if rng.random() < 0.4 else ""
        place = f"{_pick(rng, V.VENUES)}で" if rng.random() < 0.4 else ""
        label = int(rng.random() < 0.55)
        subject_particle, object_particle = "が", "を"
        if not label:
            error = rng.random()
            if error < 0.25:
                subject_particle = "がが"
            elif error < 0.5:
                object_particle = "をを"
            elif error < 0.75:
                object_particle = "の"
            else:
                verb = dictionary + "た"
        sentence = f"{adverb}{subject}{subject_particle}{place}{thing}{object_particle}{verb}。"
        if rng.random() < 0.05:
            label = 1 - label
        rows.append({"uid": first_id + i, "source": _pick(rng, _JCOLA_SOURCES), "label": label,
                     "diacritic": "g" if label else "*", "sentence": sentence, "original": sentence})
    return rows


def jsquad_document(n_paragraphs: int, rng: np.random.Generator, split: str) -> dict:
    """SQuAD-form articles about invented institutions; answer offsets are recorded while the context is built."""
    data = []
    for p in range(n_paragraphs):
        area, pref = V.AREAS[int(rng.integers(len(V.AREAS)))]
        title = f"{area}{_pick(rng, T.ORG_PREFIXES)}{_pick(rng, T.ORG_KINDS)}"
        facts = {
            "year": f"{int(rng.integers(1870, 2016))}年",
            "founder": _pick(rng, V.SURNAMES) + _pick(rng, V.GIVEN_NAMES),
            "field": _pick(rng, T.FIELDS),
            "event": _pick(rng, T.EVENTS),
            "mountain": _pick(rng, T.MOUNTAINS),
            "river": _pick(rng, T.RIVERS),
            "pref": pref,
        }
        pieces = [f"{title} [SEP] {title}は、", ("pref", facts["pref"]), f"{area}にある施設である。",
                  ("year", facts["year"]), "に", ("founder", facts["founder"]), "によって設立された。",
                  ("field", facts["field"]), "に関する資料を多く所蔵しており、毎年秋には", ("event", facts["event"]),
                  "が開かれる。", ("mountain", facts["mountain"]), "の麓に位置し、すぐ近くを",
                  ("river", facts["river"]), "が流れている。"]
        context, starts = "", {}
        for piece in pieces:
            if isinstance(piece, tuple):
                starts[piece[0]] = len(context)
                piece = piece[1]
            context += piece
        questions = {
            "year": f"{title}が設立されたのは何年？",
            "founder": f"{title}を設立したのは誰？",
            "field": f"{title}が多く所蔵しているのは何に関する資料？",
            "event": f"{title}で毎年秋に開かれるものは何？",
            "mountain": f"{title}はどの山の麓にある？",
            "river": f"{title}の近くを流れている川は？",
            "pref": f"{title}があるのはどの都道府県？",
        }
        asked = sorted(rng.choice(sorted(questions), size=3, replace=False).tolist())
        qas = [{"id": f"{split}{p:04d}q{k}", "question": questions[key],
                "answers": [{"text": facts[key], "answer_start": starts[key]}], "is_impossible": False}
               for k, key in enumerate(asked)]
        data.append({"title": title, "paragraphs": [{"qas": qas, "context": context}]})
    return {"version": "v1.0", "data": data}


def sentiment3_frame(n_rows: int, seed: int) -> pd.DataFrame:
    """Three-class tweet sentiment; 10 % of labels are replaced at random.

    Half the tweets carry their label in a sentiment word, half only in a tweet-register marker (emoji, kaomoji,
    romaji) after a neutral remark, which the base vocabulary reads as [UNK]: a model on it is capped near two
    thirds, one on a tweet vocabulary is not.
    """
    rng = np.random.default_rng([seed, 2])
    labels = ("positive", "neutral", "negative")
    rows = []
    for _ in range(n_rows):
        label = labels[int(rng.integers(3))]
        if rng.random() < 0.5:
            text = _context(rng) + _pick(rng, T.SENTIMENT_WORDS[label]) + _pick(rng, _ENDINGS)
        else:
            text = _context(rng) + _pick(rng, T.SENTIMENT_MARKERS[label]) * int(rng.integers(1, 3))
        if rng.random() < 0.1:
            label = labels[int(rng.integers(3))]
        rows.append({"text": text, "label": label})
    return pd.DataFrame(rows)


def defamation_frame(n_rows: int, seed: int) -> pd.DataFrame:
    """Binary defamation (45 % positive): an insult aimed at a person is 1; 5 % of labels are flipped.

    Neither the insult nor the person decides alone: harsh words for things and neutral or friendly remarks on
    people are 0. Half the insults, and the friendly remarks, are tweet register (romaji, emoji) that the base
    vocabulary reads as [UNK].
    """
    rng = np.random.default_rng([seed, 3])
    rows = []
    for _ in range(n_rows):
        target = _pick(rng, V.SURNAMES) + _pick(rng, ("さん", "って", "とかいう人", "先生"))
        label = int(rng.random() < 0.45)
        kind = rng.random()
        if label:
            insult = _pick(rng, T.INSULTS if kind < 0.5 else T.TWEET_INSULTS)
            text = f"{target}{_pick(rng, _ABOUT_PERSON)}{insult}{_pick(rng, _ENDINGS)}"
        elif kind < 1 / 3:
            harsh = _pick(rng, T.HARSH_FOR_THINGS + T.CRITIQUES)
            text = f"{_pick(rng, V.THINGS)}の{_pick(rng, ('新作', 'サービス', 'アップデート'))}は{harsh}{_pick(rng, _ENDINGS)}"
        elif kind < 2 / 3:
            text = f"{target}{_pick(rng, _ABOUT_PERSON)}{_pick(rng, T.TWEET_FRIENDLY)}{_pick(rng, _ENDINGS)}"
        else:
            text = _context(rng) + f"{target}と{_pick(rng, T.SENTIMENT_WORDS['neutral'])}{_pick(rng, _ENDINGS)}"
        if rng.random() < 0.05:
            label = 1 - label
        rows.append({"text": text, "label": label})
    return pd.DataFrame(rows)


def jtbr_frame(n_rows: int, seed: int) -> pd.DataFrame:
    """Brand reputation: the sentiment (positive / neutral / negative) a tweet expresses toward ``target``.

    Three tweets in ten also rate a second brand with a different sentiment, in either order, so there only the
    target (the second segment) tells which phrase counts; 10 % of labels are replaced at random.
    """
    rng = np.random.default_rng([seed, 4])
    labels = ("positive", "neutral", "negative")
    rows = []
    for _ in range(n_rows):
        label = labels[int(rng.integers(3))]
        target, other = (T.REPUTATION_BRANDS[k] for k in rng.choice(len(T.REPUTATION_BRANDS), 2, replace=False).tolist())
        about = f"{target}の{_pick(rng, T.REPUTATION_ASPECTS)}、{_pick(rng, T.REPUTATION_PHRASES[label])}"
        if rng.random() < 0.3:
            other_label = labels[(labels.index(label) + 1 + int(rng.integers(2))) % 3]
            aside = f"{other}の{_pick(rng, T.REPUTATION_ASPECTS)}、{_pick(rng, T.REPUTATION_PHRASES[other_label])}"
            about = f"{about}。{aside}" if rng.random() < 0.5 else f"{aside}。{about}"
        text = _context(rng) + about + _pick(rng, _ENDINGS)
        if rng.random() < 0.1:
            label = labels[int(rng.integers(3))]
        rows.append({"text": text, "target": target, "label": label})
    return pd.DataFrame(rows)


def write_tasks(out_dir: Path, seed: int = 0) -> dict[str, Path]:
    """Writes every task file under ``out_dir`` (WRIME, JGLUE, generic CSV) and returns name -> path."""
    out_dir = Path(out_dir)
    paths = {"wrime": _write_table(out_dir / "wrime.tsv", wrime_frame(1500, seed), sep="\t")}
    # Each task has its own stream [seed, 10 + position]: append new tasks, never reorder.
    builders = {"jnli": jnli_rows, "jsts": jsts_rows, "jcommonsenseqa": jcommonsenseqa_rows, "marc_ja": marc_ja_rows,
                "jcola": jcola_rows}
    for t, (task, build) in enumerate(builders.items()):
        rng = np.random.default_rng([seed, 10 + t])
        first_id = 0
        for split, size in _JGLUE_SIZES.items():
            path = out_dir / "jglue" / task / f"{split}-v1.3.json"
            paths[f"{task}_{split}"] = _write_jsonl(path, build(size, rng, first_id))
            first_id += size
    rng = np.random.default_rng([seed, 20])
    for split, size in _JSQUAD_PARAGRAPHS.items():
        path = out_dir / "jglue" / "jsquad" / f"{split}-v1.3.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(jsquad_document(size, rng, split), ensure_ascii=False) + "\n", encoding="utf-8")
        paths[f"jsquad_{split}"] = path
    paths["sentiment3"] = _write_table(out_dir / "sentiment3.csv", sentiment3_frame(1500, seed), sep=",")
    paths["defamation"] = _write_table(out_dir / "defamation.csv", defamation_frame(1500, seed), sep=",")
    paths["jtbr"] = _write_table(out_dir / "jtbr.csv", jtbr_frame(1500, seed), sep=",")
    return paths
