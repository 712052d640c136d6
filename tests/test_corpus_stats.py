"""Corpus statistics on a tiny hand-made corpus: one spammer, a few active users and many occasional ones."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tweetbert.corpus import stats
from tweetbert.errors import InputError

CAP = 5


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"https?://\S+", "[URL]", text)
    return re.sub(r"@[A-Za-z0-9_]+", "[USER]", text)


def _corpus() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Raw, dedup-annotated and balanced frames following the stage contracts."""
    rows = []
    for i in range(150):  # the spammer: one text, a new URL each time
        rows.append(("spam", f"#セール 今すぐ買ってください @shop https://x.co/{i}"))
    for u in range(3):  # active users: 12 distinct tweets each
        for i in range(12):
            rows.append((f"active{u}", f"今日は{i}回目の散歩に行きました #散歩{u} @friend{i % 3}"))
    for u in range(30):  # occasional users: 1-3 distinct tweets
        for i in range(1 + u % 3):
            rows.append((f"casual{u}", f"ユーザー{u}の{i}番目、ラーメンがおいしい #今日のご飯"))
    raw = pd.DataFrame({
        "id": [f"{n:05d}" for n in range(len(rows))],
        "user_id": [user for user, _ in rows],
        "created_at": "2020-01-01T00:00:00Z",
        "text": [text for _, text in rows],
    })
    annotated = raw.assign(text=raw["text"].map(_normalise))
    spam = annotated["user_id"] == "spam"  # rows 0-149: one cluster, row 0 its representative
    annotated["cluster_id"] = pd.Series(range(len(rows)), dtype="int64").mask(spam, 0)
    annotated["is_duplicate"] = spam & (annotated.index != 0)
    kept = annotated[~annotated["is_duplicate"]]
    balanced = kept.groupby("user_id", sort=False).head(CAP).reset_index(drop=True)
    return raw, annotated, balanced


def _write(tmp_path, frames):
    paths = []
    for name, frame in zip(("raw", "dedup", "balanced"), frames):
        path = tmp_path / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def corpus_files(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("corpus"), _corpus())


@pytest.fixture(scope="module")
def outputs(corpus_files, tmp_path_factory):
    return stats.write_corpus_stats(*corpus_files, stats_files(tmp_path_factory.mktemp("stats")), seed=3)


def stats_files(directory):
    """The statistics' files in one folder, named as the workflow's corpus_stats rule names them."""
    return {name: directory / (name.removesuffix("_plot") + (".png" if name.endswith("_plot") else ".tsv"))
            for name in stats.CORPUS_STATS_OUTPUTS}


def _read(outputs, name):
    return pd.read_csv(outputs[name], sep="\t")


def test_entropy_of_uniform_distribution_over_four_types_is_two_bits():
    assert stats.shannon_entropy([5, 5, 5, 5]) == pytest.approx(2.0)
    assert stats.shannon_entropy([1, 1]) == pytest.approx(1.0)
    assert stats.shannon_entropy([7]) == 0.0
    assert stats.shannon_entropy([]) == 0.0


def test_activity_segments_are_log_scale():
    counts = pd.Series([1, 2, 9, 10, 99, 100, 999, 1000, 50_000])
    assert stats.activity_segments(counts).astype(str).tolist() == [
        "1", "2-9", "2-9", "10-99", "10-99", "100-999", "100-999", ">=1000", ">=1000"]


def test_spammer_duplicates_concentrate_in_top_segment(corpus_files):
    raw, _, _ = _corpus()
    rows = stats.CorpusRows.read(*corpus_files)
    table = stats.duplicates_by_activity(rows.per_user()["raw"], rows.duplicates_per_user())
    assert table["segment"].tolist() == ["1", "2-9", "10-99", "100-999"]  # no empty ">=1000"
    top = table.set_index("segment").loc["100-999"]
    assert top["users"] == 1 and top["tweets"] == 150 and top["duplicates"] == 149
    assert table["duplicates"].sum() == 149
    assert table["users"].sum() == raw["user_id"].nunique()
    assert table["tweets"].sum() == len(raw)


def test_balanced_corpus_never_exceeds_cap(outputs):
    table = _read(outputs, "user_contribution")
    assert table.loc[table["corpus"] == "balanced", "tweets_per_user"].max() <= CAP
    assert table.loc[table["corpus"] == "raw", "tweets_per_user"].max() == 150
    assert table["corpus"].unique().tolist() == ["raw", "dedup", "balanced"]


def test_top_user_share_is_the_spammer_in_raw(outputs):
    table = _read(outputs, "top_user_share").set_index("corpus")
    assert table.loc["raw", "top_users"] == 1
    assert table.loc["raw", "top_share"] == pytest.approx(150 / table.loc["raw", "tweets"], abs=1e-6)
    assert table.loc["raw", "top_share"] > table.loc["balanced", "top_share"]


def test_summary_rows(outputs):
    table = _read(outputs, "summary").set_index("corpus")
    raw, _, balanced = _corpus()
    assert table.loc["raw", "tweets"] == len(raw)
    assert table.loc["balanced", "tweets"] == len(balanced)
    assert table.loc["raw", "duplicate_ratio"] == pytest.approx(149 / len(raw), abs=1e-6)
    assert table[["duplicate_ratio"]].loc[["dedup", "balanced"]].isna().all().all()


def test_equal_size_sampling_uses_one_size_for_all_corpora(outputs):
    _, annotated, balanced = _corpus()
    ids = pa.array(annotated["id"].tolist())
    members = {"raw": np.ones(len(annotated), dtype=bool), "dedup": ~annotated["is_duplicate"].to_numpy(),
               "balanced": annotated["id"].isin(balanced["id"]).to_numpy()}
    for size, expected in ((None, len(balanced)), (10, 10), (10**6, len(balanced))):
        samples = stats.equal_size_samples(stats.id_order(ids), members, size, seed=0)
        assert {len(rows) for rows in samples.values()} == {expected}
        for name, rows in samples.items():
            assert members[name][rows].all() and len(set(rows)) == len(rows)
    table = _read(outputs, "diversity")
    assert table["sample_size"].unique().tolist() == [len(balanced)]
    assert table["feature"].unique().tolist() == ["1-gram", "2-gram", "3-gram", "hashtag", "mention"]


def test_sampling_ignores_row_order_but_follows_seed():
    _, annotated, _ = _corpus()

    def ids(frame, seed):
        column = pa.array(frame["id"].tolist())
        everything = {"raw": np.ones(len(frame), dtype=bool)}
        return column.take(stats.equal_size_samples(stats.id_order(column), everything, 20, seed)["raw"])

    assert ids(annotated, 1).to_pylist() == sorted(ids(annotated, 1).to_pylist())  # in id order
    assert ids(annotated, 1) == ids(annotated.iloc[::-1], 1)
    assert ids(annotated, 1) != ids(annotated, 2)


def test_tsv_bytes_depend_on_the_seed_not_on_the_batch_size(corpus_files, outputs, tmp_path):
    again = stats.write_corpus_stats(*corpus_files, stats_files(tmp_path), seed=3, batch_size=7)
    for name, path in outputs.items():
        if path.suffix == ".tsv":
            assert again[name].read_bytes() == path.read_bytes(), name


def test_hashtags_and_mentions_in_japanese_text():
    text = "#今日のご飯 おいしい！＃ラーメン #123 見て#なし https://a.jp/#frag &#39; #Tokyo2020"
    assert stats.extract_hashtags(text) == ["今日のご飯", "ラーメン", "tokyo2020"]
    text = "@Alice_01さん こんにちは ＠bob a@b.com https://x.com/@carol @toolongname_is_not_one"
    assert stats.extract_mentions(text) == ["alice_01", "bob"]


def test_word_ngrams_skip_placeholders():
    import fugashi

    segments = stats.word_segments("[USER] 今日は[URL]晴れ", fugashi.Tagger("-Owakati"))
    assert segments == [["今日", "は"], ["晴れ"]]
    assert list(stats.ngrams(segments, 2)) == ["今日 は"]


def test_diversity_features_come_from_the_right_text(outputs):
    table = _read(outputs, "diversity").set_index(["feature", "corpus"])
    assert table.loc[("mention", "raw"), "types"] > 0  # from raw text: the normalised one has none left
    assert (table["entropy_bits"] >= 0).all()


def test_every_png_is_written_and_non_empty(outputs):
    pngs = [path for path in outputs.values() if path.suffix == ".png"]
    assert sorted(p.name for p in pngs) == ["diversity.png", "duplicates_by_activity.png", "user_contribution.png"]
    for path in pngs:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000


def _whole_table_counts(frame: pd.DataFrame, users: np.ndarray) -> np.ndarray:
    """Tweets per user of a whole in-memory table, in the streamed counts' user order (first raw appearance)."""
    return frame.groupby("user_id").size().reindex(users, fill_value=0).to_numpy()


def test_counts_streamed_in_tiny_batches_equal_whole_table_counts(corpus_files):
    raw, annotated, balanced = _corpus()
    rows = stats.CorpusRows.read(*corpus_files, batch_size=7)
    users = pd.unique(raw["user_id"])
    kept = annotated[~annotated["is_duplicate"]]
    expected = {name: _whole_table_counts(frame, users) for name, frame in
                (("raw", raw), ("dedup", kept), ("balanced", balanced))}
    per_user = rows.per_user()
    assert list(per_user) == list(expected)
    for name, counts in expected.items():
        assert per_user[name].tolist() == counts.tolist(), name
    duplicates = _whole_table_counts(annotated[annotated["is_duplicate"]], users)
    assert rows.duplicates_per_user().tolist() == duplicates.tolist()
    assert rows.dedup_rows.tolist() == list(range(len(raw)))
    assert annotated["id"].iloc[rows.balanced_rows].tolist() == balanced["id"].tolist()
    whole = stats.CorpusRows.read(*corpus_files, batch_size=len(raw))
    for name in ("users", "dedup_rows", "duplicate", "balanced_rows"):
        assert np.array_equal(getattr(rows, name), getattr(whole, name)), name


def test_balanced_rows_must_come_from_dedup(tmp_path):
    raw, annotated, balanced = _corpus()
    balanced.loc[2, "id"] = "stranger"
    with pytest.raises(InputError, match="balanced.parquet, row 3, column 'id'"):
        stats.write_corpus_stats(*_write(tmp_path, (raw, annotated, balanced)), stats_files(tmp_path / "out"))


def _check(tmp_path, frames):
    stats.CorpusRows.read(*_write(tmp_path, frames), batch_size=7)


def _swapped(balanced: pd.DataFrame, annotated: pd.DataFrame) -> pd.DataFrame:
    """Rows 2 and 3 swapped: out of the dedup order, as if the files came from different runs."""
    return balanced.iloc[[0, 2, 1, *range(3, len(balanced))]]


def _with_a_duplicate(balanced: pd.DataFrame, annotated: pd.DataFrame) -> pd.DataFrame:
    """A 77th row that dedup marked a duplicate."""
    assert len(balanced) == 76 and annotated["is_duplicate"].iloc[1]
    return pd.concat([balanced, annotated.iloc[[1]]], ignore_index=True)


def _with_another_user(balanced: pd.DataFrame, annotated: pd.DataFrame) -> pd.DataFrame:
    """Row 10's tweet attributed to another user."""
    return balanced.assign(user_id=balanced["user_id"].mask(balanced.index == 9, "spam"))


@pytest.mark.parametrize("change, row, column", [(_swapped, 3, "id"), (_with_a_duplicate, 77, "id"),
                                                 (_with_another_user, 10, "user_id")])
def test_balanced_rows_must_be_non_duplicate_dedup_rows_in_order(tmp_path, change, row, column):
    raw, annotated, balanced = _corpus()
    with pytest.raises(InputError, match=re.escape(f"balanced.parquet, row {row}, column {column!r}")):
        _check(tmp_path, (raw, annotated, change(balanced, annotated)))


def test_dedup_rows_must_be_raw_rows(tmp_path):
    raw, annotated, balanced = _corpus()
    annotated.loc[20, "id"] = "stranger"
    with pytest.raises(InputError, match=re.escape("dedup.parquet, row 21, column 'id': id 'stranger' is not in")):
        _check(tmp_path, (raw, annotated, balanced))
