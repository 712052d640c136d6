"""The CLI: every stage is listed and documents itself; user errors end with a message, not a traceback."""

import pytest

from tweetbert.cli import build_parser, main

STAGES = ["demo-data", "ingest", "normalize", "dedup-signatures", "dedup-bands", "dedup", "tune-dedup", "balance",
          "corpus-stats", "split", "char-coverage", "train-tokenizer", "length-histogram", "tokenizer-stats",
          "build-base-model", "migrate-embeddings", "candidates", "tokenize-corpus", "pretrain-candidate",
          "pretrain-loss-curves", "plan",
          "pretrain-cost", "cluster-usage", "study-plots", "trial-counts", "contamination"]


def test_help_lists_every_stage(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for stage in STAGES:
        assert stage in out


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_has_help(stage, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([stage, "--help"])
    assert exit_.value.code == 0
    assert "usage: tweetbert " + stage in capsys.readouterr().out


def test_bad_input_ends_in_a_located_error_message_and_exit_code_2(tmp_path, capsys):
    bad = tmp_path / "tweets.jsonl"
    bad.write_text('{"id": "1", "user_id": "u", "text": "ok"}\n{"id": "2", "text": "no user"}\n')
    code = main(["ingest", "--input", str(bad), "--output", str(tmp_path / "o.parquet"), "--stats",
                 str(tmp_path / "s.json")])
    assert code == 2
    err = capsys.readouterr().err
    assert f"{bad}, row 2, column 'user_id'" in err


@pytest.mark.parametrize(("stage", "content", "problem"), [
    ("ingest", b"", "not a readable Parquet file"),
    ("ingest", b"PAR1 cut short", "not a readable Parquet file"),
    ("normalize", None, "holds no tweets: nothing to normalise"),
])
def test_an_unreadable_or_empty_input_ends_in_a_message_and_exit_code_2(tmp_path, capsys, stage, content, problem):
    import pandas as pd

    source = tmp_path / "in.parquet"
    if content is None:
        pd.DataFrame({c: pd.Series([], dtype="string") for c in ("id", "user_id", "created_at", "text")}).to_parquet(
            source)
    else:
        source.write_bytes(content)
    code = main([stage, "--input", str(source), "--output", str(tmp_path / "o.parquet"), "--stats",
                 str(tmp_path / "s.json")])
    err = capsys.readouterr().err
    assert code == 2 and f"tweetbert {stage}: error: {source}: {problem}" in err and "Traceback" not in err
    assert not (tmp_path / "o.parquet").exists()


def test_sweep_and_selection_stages_are_listed(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for stage in ("finetune-sweep", "select-best", "pretrain-candidate", "calibrate-batch-size"):
        assert stage in out


def test_help_lists_the_stages_in_the_dags_order(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.startswith("    ")
              and line.split()[0][0].isalpha()]
    firsts = [listed.index(command) for command in ("ingest", "train-tokenizer", "pretrain-candidate",
                                                    "finetune-sweep", "probe-embeddings", "demo-data")]
    assert firsts == sorted(firsts)
