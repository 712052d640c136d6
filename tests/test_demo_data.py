"""Demo data: determinism, the raw tweet format and content mix, ground-truth separation, task file formats."""

from __future__ import annotations

import itertools
import json
import re
import tracemalloc
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import fugashi
import numpy as np
import pandas as pd
import pytest

from tweetbert.demo import generate_tweets, write_demo_data, write_tasks, write_tweets
from tweetbert.demo import task_vocabulary as T
from tweetbert.demo import tweets as demo_tweets
from tweetbert.demo.calibration import write_calibration_sets
from tweetbert.tasks import ProblemType, load_task

N_TWEETS = 3000
EMOTIONS = ("Joy", "Sadness", "Anticipation", "Surprise", "Anger", "Fear", "Disgust", "Trust")
GROUPS = ("Writer_", "Reader1_", "Reader2_", "Reader3_", "Avg. Readers_")
URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]+")
MENTION = re.compile(r"(?<![A-Za-z0-9_@])@[A-Za-z0-9_]{1,15}\b")
_TAGGER = fugashi.Tagger("-Owakati")


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    write_demo_data(out, seed=0, n_tweets=N_TWEETS)
    return out


@pytest.fixture(scope="module")
def tweets(demo_dir: Path) -> pd.DataFrame:
    rows = [json.loads(line) for line in (demo_dir / "tweets.jsonl").read_text(encoding="utf-8").splitlines()]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def truth(demo_dir: Path) -> pd.DataFrame:
    return pd.read_csv(demo_dir / "duplicate_clusters.tsv", sep="\t", dtype={"id": str})


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _shingles(text: str) -> frozenset:
    """The dedup measure's shingles: word 5-grams of MeCab tokens after NFKC, links and mentions left out."""
    text = MENTION.sub("[USER]", URL.sub("[URL]", unicodedata.normalize("NFKC", text)))
    tokens = _TAGGER.parse(text.replace("[URL]", " ").replace("[USER]", " ")).split()
    if not tokens:  # only links / mentions: exact-text duplicates of each other
        return frozenset([" ".join(text.split())])
    if len(tokens) < 5:
        return frozenset([tuple(tokens)])
    return frozenset(tuple(tokens[i : i + 5]) for i in range(len(tokens) - 4))


def _jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b)


def test_same_seed_writes_byte_identical_files(demo_dir: Path, tmp_path: Path) -> None:
    paths = write_demo_data(tmp_path, seed=0, n_tweets=N_TWEETS)
    assert all(path.is_file() for path in paths.values())
    assert _files(tmp_path) == _files(demo_dir)


def test_streamed_files_are_json_dumps_and_to_csv_of_the_frames_whatever_the_batch(
        demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tweets, truth = generate_tweets(N_TWEETS, seed=0)
    lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in tweets.to_dict(orient="records"))
    assert (demo_dir / "tweets.jsonl").read_bytes() == lines.encode()
    assert (demo_dir / "duplicate_clusters.tsv").read_bytes() == truth.to_csv(sep="\t", index=False,
                                                                              lineterminator="\n").encode()
    monkeypatch.setattr(demo_tweets, "_BATCH", 97)  # batch edges fall anywhere, mid-cluster and mid-bot
    write_tweets(tmp_path, seed=0, n_tweets=N_TWEETS)
    assert _files(tmp_path) == {name: _files(demo_dir)[name] for name in ("duplicate_clusters.tsv", "tweets.jsonl")}


def test_writing_tweets_needs_memory_for_integers_only_not_for_the_texts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Texts go to a scratch file and rows to the output a batch at a time, so the peak of Python allocations
    grows by a few integers a tweet; holding the texts would add hundreds of bytes a tweet."""
    monkeypatch.setattr(demo_tweets, "_CHUNK", 200)  # pre-drawn integer rows: else one chunk spans these corpora
    monkeypatch.setattr(demo_tweets, "_BATCH", 200)

    def peak(n_tweets: int) -> int:
        tracemalloc.start()
        try:
            write_tweets(tmp_path / str(n_tweets), seed=0, n_tweets=n_tweets)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(1000), peak(5000)
    assert large - small < 100 * (5000 - 1000), (small, large)


def test_calibration_sets_are_the_lines_the_former_in_memory_choice_picked(demo_dir: Path, tmp_path: Path) -> None:
    """The choice is made on cluster sizes alone; it must draw the same rows as when it ran on loaded frames."""
    target, control = tmp_path / "target.jsonl", tmp_path / "control.jsonl"
    write_calibration_sets(demo_dir / "tweets.jsonl", demo_dir / "duplicate_clusters.tsv", target, control, 100, 0)
    tweets = pd.read_json(demo_dir / "tweets.jsonl", lines=True, dtype=False)
    truth = pd.read_csv(demo_dir / "duplicate_clusters.tsv", sep="\t", dtype=str)
    cluster = tweets["id"].map(truth.set_index("id")["cluster"])
    cluster_size = cluster.map(cluster.value_counts())
    rng = np.random.default_rng(0)
    for path, mask in ((target, cluster_size >= 5), (control, cluster_size == 1)):
        positions = np.flatnonzero(mask.to_numpy())
        chosen = np.sort(rng.choice(positions, size=min(100, len(positions)), replace=False))
        records = tweets.iloc[chosen].to_dict(orient="records")
        assert path.read_text(encoding="utf-8") == "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        assert len(records) == 100


def test_different_seed_gives_different_tweets(tweets: pd.DataFrame) -> None:
    other, _ = generate_tweets(N_TWEETS, seed=1)
    shared = set(tweets["text"]) & set(other["text"])
    assert len(shared) < 0.02 * N_TWEETS  # only stock phrases like "おはよう" recur


def test_tweets_jsonl_has_four_string_keys_and_unique_ids(demo_dir: Path, tweets: pd.DataFrame) -> None:
    for line in (demo_dir / "tweets.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert list(row) == ["id", "user_id", "created_at", "text"]
        assert all(isinstance(value, str) for value in row.values())
    assert len(tweets) == N_TWEETS
    assert tweets["id"].is_unique
    assert tweets["created_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()
    assert tweets["created_at"].is_monotonic_increasing


def test_tweets_mix_newlines_emoji_links_mentions_hashtags_romaji_katakana(tweets: pd.DataFrame) -> None:
    text = tweets["text"]
    patterns = {
        "newline": r"\n", "emoji": r"[\U0001F300-\U0001FAFF]", "url": r"https://t\.co/\w{10}",
        "mention": r"@\w+", "hashtag": r"#\w+", "romaji": r"\b[a-z]{4,}\b", "katakana": r"[\u30A1-\u30FA]{3,}",
        "kaomoji": r"\([^()\s]{2,8}\)", "half-width katakana": r"[\uFF66-\uFF9D]", "full-width latin": r"[\uFF21-\uFF5A]",
    }
    for name, pattern in patterns.items():
        assert text.str.contains(pattern).mean() > 0.002, name
    assert text.str.fullmatch(URL.pattern).sum() >= 5
    assert text.str.fullmatch(MENTION.pattern).sum() >= 5


def test_user_activity_is_heavy_tailed(tweets: pd.DataFrame) -> None:
    counts = tweets["user_id"].value_counts()
    assert counts.iloc[0] >= 50 * counts.median()
    assert (counts <= 2).mean() > 0.6


def test_template_bots_post_many_near_identical_tweets(tweets: pd.DataFrame, truth: pd.DataFrame) -> None:
    merged = tweets.merge(truth, on="id")
    per_user = merged.groupby("user_id")["cluster"].agg(["size", "nunique"])
    bots = per_user[(per_user["size"] >= 10) & (per_user["nunique"] == 1)]
    assert len(bots) >= 5


def test_truth_covers_every_tweet_and_joins_exact_duplicates(tweets: pd.DataFrame, truth: pd.DataFrame) -> None:
    assert truth["id"].tolist() == tweets["id"].tolist()
    key = tweets["text"].map(lambda t: "".join(MENTION.sub("[USER]", URL.sub("[URL]", unicodedata.normalize("NFKC", t))).split()))
    assert (pd.DataFrame({"key": key, "cluster": truth["cluster"]}).groupby("key")["cluster"].nunique() == 1).all()
    sizes = truth["cluster"].value_counts()
    assert 0.2 <= sizes[sizes > 1].sum() / len(truth) <= 0.35


def test_truth_separates_clusters_by_shingle_jaccard(tweets: pd.DataFrame, truth: pd.DataFrame) -> None:
    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(len(tweets), size=2000, replace=False))
    shingles = [_shingles(tweets["text"].iloc[i]) for i in sample]
    cluster = truth["cluster"].to_numpy()[sample]

    members = defaultdict(list)
    for k, c in enumerate(cluster):
        members[c].append(k)
    within_pairs = [pair for m in members.values() for pair in itertools.combinations(m, 2)]
    picked = rng.choice(len(within_pairs), size=min(20_000, len(within_pairs)), replace=False)
    within = np.array([_jaccard(shingles[within_pairs[p][0]], shingles[within_pairs[p][1]]) for p in picked])

    # Cross-cluster pairs that share no shingle have Jaccard 0; the rest are found through an inverted index.
    index = defaultdict(list)
    for k, s in enumerate(shingles):
        for g in s:
            index[g].append(k)
    touching = {pair for docs in index.values() for pair in itertools.combinations(docs, 2) if cluster[pair[0]] != cluster[pair[1]]}
    cross = np.array([_jaccard(shingles[a], shingles[b]) for a, b in sorted(touching)])

    print(f"within: {len(within)} pairs, quantiles 0/1/5/50% = {np.quantile(within, [0, .01, .05, .5]).round(3)}")
    print(f"cross: {len(cross)} of {2000 * 1999 // 2} pairs share a shingle, max {cross.max():.3f}, "
          f"≥0.1: {(cross >= 0.1).sum()}")
    assert (within >= 0.25).mean() >= 0.99
    assert cross.max() < 0.2
    assert (cross >= 0.1).mean() < 0.005


def test_wrime_tsv_has_every_published_column(demo_dir: Path) -> None:
    wrime = pd.read_csv(demo_dir / "tasks" / "wrime.tsv", sep="\t")
    expected = ["Sentence", "UserID", "Datetime", "Train/Dev/Test"]
    for group in GROUPS:
        expected += [group + emotion for emotion in EMOTIONS] + [group + "Sentiment"]
    assert wrime.columns.tolist() == expected
    assert 1000 <= len(wrime) <= 2000
    assert set(wrime["Train/Dev/Test"]) == {"train", "dev", "test"}
    intensities = wrime[[g + e for g in GROUPS for e in EMOTIONS]]
    assert intensities.isin([0, 1, 2, 3]).all().all()
    assert wrime[[g + "Sentiment" for g in GROUPS]].isin([-2, -1, 0, 1, 2]).all().all()
    assert (intensities.sum(axis=1) > 0).mean() > 0.5


@pytest.mark.parametrize("task,keys", [
    ("jnli", ["sentence_pair_id", "yjcaptions_id", "sentence1", "sentence2", "label"]),
    ("jsts", ["sentence_pair_id", "yjcaptions_id", "sentence1", "sentence2", "label"]),
    ("jcommonsenseqa", ["q_id", "question", "choice0", "choice1", "choice2", "choice3", "choice4", "label"]),
    ("marc_ja", ["sentence", "label", "review_id"]),
    ("jcola", ["uid", "source", "label", "diacritic", "sentence", "original"]),
])
def test_jglue_json_lines_have_published_keys(demo_dir: Path, task: str, keys: list[str]) -> None:
    for split, low in (("train", 500), ("valid", 100), ("test", 100)):
        lines = (demo_dir / "tasks" / "jglue" / task / f"{split}-v1.3.json").read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines]
        assert len(rows) >= low
        assert all(list(row) == keys for row in rows)
        labels = {row["label"] for row in rows}
        if task == "jnli":
            assert labels == {"entailment", "contradiction", "neutral"}
        elif task == "jsts":
            assert all(isinstance(x, float) and 0.0 <= x <= 5.0 for x in labels)
        elif task == "marc_ja":
            assert labels == {"positive", "negative"}
            assert all(re.fullmatch(r"R[0-9A-Z]{13}", row["review_id"]) for row in rows)
        elif task == "jcola":
            assert labels == {0, 1} and all(type(row["label"]) is int for row in rows)
            assert all(row["diacritic"] == ("g" if row["label"] else "*") for row in rows)
        else:
            assert labels == {0, 1, 2, 3, 4}


def test_jsquad_answer_offsets_match_the_context(demo_dir: Path) -> None:
    for split in ("train", "valid"):
        document = json.loads((demo_dir / "tasks" / "jglue" / "jsquad" / f"{split}-v1.3.json").read_text(encoding="utf-8"))
        questions = 0
        for article in document["data"]:
            assert set(article) == {"title", "paragraphs"}
            for paragraph in article["paragraphs"]:
                context = paragraph["context"]
                for qa in paragraph["qas"]:
                    assert set(qa) == {"id", "question", "answers", "is_impossible"}
                    for answer in qa["answers"]:
                        start = answer["answer_start"]
                        assert context[start : start + len(answer["text"])] == answer["text"]
                    questions += 1
        assert questions >= 100


def _naive_bayes_gain(texts: pd.Series, labels: pd.Series, n_train: int) -> float:
    """Held-out accuracy of a word-unigram naive Bayes minus that of always predicting the majority class."""
    words = [set(_TAGGER.parse(text).split()) for text in texts]
    classes = sorted(set(labels))
    priors = labels[:n_train].value_counts()
    counts = {y: defaultdict(int) for y in classes}
    for doc, y in zip(words[:n_train], labels[:n_train]):
        for word in doc:
            counts[y][word] += 1

    def score(doc: set, y: object) -> float:
        return np.log(priors[y]) + sum(np.log((counts[y][w] + 1) / (priors[y] + 2)) for w in doc)

    predicted = [max(classes, key=lambda y: score(doc, y)) for doc in words[n_train:]]
    accuracy = np.mean([p == y for p, y in zip(predicted, labels[n_train:])])
    return accuracy - priors.max() / priors.sum()


def test_generic_csv_tasks_have_text_and_learnable_labels(demo_dir: Path) -> None:
    for name, labels in (("sentiment3", {"positive", "neutral", "negative"}), ("defamation", {0, 1})):
        table = pd.read_csv(demo_dir / "tasks" / f"{name}.csv")
        assert table.columns.tolist() == ["text", "label"]
        assert set(table["label"]) == labels and table["text"].str.len().min() > 0
        assert _naive_bayes_gain(table["text"], table["label"], n_train=1000) > 0.15, name


def test_target_tasks_need_the_tweet_register_markers_a_general_vocabulary_cannot_read(demo_dir: Path) -> None:
    """Without the emoji, kaomoji and romaji (what the base tokenizer reads as [UNK]) much of the signal is lost."""
    markers = sorted({*itertools.chain(*T.SENTIMENT_MARKERS.values()), *T.TWEET_INSULTS, *T.TWEET_FRIENDLY},
                     key=len, reverse=True)
    for name in ("sentiment3", "defamation"):
        table = pd.read_csv(demo_dir / "tasks" / f"{name}.csv")
        blind = table["text"].map(lambda text: re.sub("|".join(map(re.escape, markers)), "", text))
        full_gain = _naive_bayes_gain(table["text"], table["label"], n_train=1000)
        blind_gain = _naive_bayes_gain(blind, table["label"], n_train=1000)
        assert full_gain > 0.3 and blind_gain < full_gain - 0.08, (name, full_gain, blind_gain)


@pytest.mark.parametrize("name, relative, labels, sizes", [
    ("marc_ja", "jglue/marc_ja", ["positive", "negative"], (557, 43, 150, 150)),
    ("jcola", "jglue/jcola", ["unacceptable", "acceptable"], (557, 43, 150, 150)),
    ("jtbr", "jtbr.csv", ["negative", "neutral", "positive"], (975, 75, 225, 225)),
])
def test_marc_ja_jcola_jtbr_load_through_the_registry_with_every_class_in_every_split(
        demo_dir: Path, name: str, relative: str, labels: list[str], sizes: tuple[int, ...]) -> None:
    data = load_task(name, {"path": str(demo_dir / "tasks" / relative)})
    assert data.problem_type is ProblemType.SINGLE_LABEL and data.label_names == labels
    assert tuple(len(data[split]) for split in ("train", "validation", "dev", "test")) == sizes
    for split, examples in data.splits.items():
        counts = Counter(example["label"] for example in examples)
        assert set(counts) == set(range(len(labels))), (name, split)
        assert max(counts.values()) < 0.7 * len(examples), (name, split)  # no class dominates
    if name == "jtbr":  # the target is the second segment and is named in the tweet
        assert all(example["text_pair"] in example["text"] for example in data["train"])
    else:
        assert (data.sources["dev"], data.sources["test"]) == ("valid-v1.3.json", "test-v1.3.json")


def _jglue_rows(demo_dir: Path, task: str) -> list[dict]:
    folder = demo_dir / "tasks" / "jglue" / task
    return [json.loads(line) for split in ("train", "valid", "test")
            for line in (folder / f"{split}-v1.3.json").read_text(encoding="utf-8").splitlines()]


def test_marc_ja_sentiment_is_learnable_from_words(demo_dir: Path) -> None:
    rows = _jglue_rows(demo_dir, "marc_ja")
    assert 0.5 < np.mean([row["label"] == "positive" for row in rows]) < 0.7
    texts, labels = pd.Series([row["sentence"] for row in rows]), pd.Series([row["label"] for row in rows])
    gain = _naive_bayes_gain(texts, labels, n_train=600)
    assert 0.15 < gain < 0.4


def test_jcola_unacceptable_sentences_break_a_systematic_rule(demo_dir: Path) -> None:
    """Doubled case particles, a genitive object or dictionary form + た; only label noise breaks the pattern."""
    forms = "|".join(sorted({form for dictionary, past, _ in T.ACCEPTABILITY_VERBS for form in (dictionary, past)},
                            key=len, reverse=True))
    broken = re.compile(rf"がが|をを|の(?:{forms})。$|(?:{'|'.join(d for d, _, _ in T.ACCEPTABILITY_VERBS)})た。$")
    rows = pd.DataFrame(_jglue_rows(demo_dir, "jcola"))
    assert rows["uid"].tolist() == list(range(len(rows)))
    assert (rows["sentence"] == rows["original"]).all() and rows["sentence"].str.endswith("。").all()
    share_broken = rows["sentence"].map(lambda text: bool(broken.search(text))).groupby(rows["label"]).mean()
    assert share_broken[0] > 0.85 and share_broken[1] < 0.1
    assert 0.5 < rows["label"].mean() < 0.65


def test_jtbr_label_follows_what_the_tweet_says_about_the_target(demo_dir: Path) -> None:
    table = pd.read_csv(demo_dir / "tasks" / "jtbr.csv")
    assert table.columns.tolist() == ["text", "target", "label"]
    assert set(table["label"]) == {"positive", "neutral", "negative"}
    assert set(table["target"]) <= set(T.REPUTATION_BRANDS)
    polarity = {phrase: label for label, phrases in T.REPUTATION_PHRASES.items() for phrase in phrases}
    phrases = "|".join(sorted(polarity, key=len, reverse=True))
    about = re.compile(rf"(?P<brand>{'|'.join(T.REPUTATION_BRANDS)})の[^、。]+、(?P<phrase>{phrases})")

    def said(text: str) -> dict[str, str]:
        return {match["brand"]: polarity[match["phrase"]] for match in about.finditer(text)}

    opinions = table["text"].map(said)
    two = opinions.map(len) == 2
    assert 0.2 < two.mean() < 0.4  # tweets that rate a second brand as well
    on_target = pd.Series([o[t] == y for o, t, y in zip(opinions, table["target"], table["label"])])
    on_other = pd.Series([any(v == y for b, v in o.items() if b != t)
                          for o, t, y in zip(opinions, table["target"], table["label"])])
    assert on_target.mean() > 0.88 and on_target[two].mean() > 0.88 and on_other[two].mean() < 0.12
    assert _naive_bayes_gain(table["text"], table["label"], n_train=1000) > 0.15


def test_write_tasks_returns_every_file_and_is_deterministic_per_seed(demo_dir: Path, tmp_path: Path) -> None:
    paths = write_tasks(tmp_path / "a", seed=0)
    for key, relative in (("marc_ja_train", "jglue/marc_ja/train-v1.3.json"),
                          ("jcola_test", "jglue/jcola/test-v1.3.json"), ("jtbr", "jtbr.csv")):
        assert paths[key] == tmp_path / "a" / relative
    assert {key for key in paths if key.startswith(("marc_ja_", "jcola_"))} == {
        f"{task}_{split}" for task in ("marc_ja", "jcola") for split in ("train", "valid", "test")}
    assert _files(tmp_path / "a") == _files(demo_dir / "tasks")
    other = _files(write_tasks(tmp_path / "b", seed=1)["jtbr"].parent)
    assert all(other[name] != data for name, data in _files(tmp_path / "a").items())


def test_general_text_is_formal_one_sentence_per_line(demo_dir: Path) -> None:
    lines = (demo_dir / "general_text.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 20_000
    assert all(line.endswith("。") for line in lines)
    assert not any(re.search(r"https?://|@\w|#\w|[\U0001F300-\U0001FAFF]", line) for line in lines)
    assert len(set(lines)) > 0.9 * len(lines)
