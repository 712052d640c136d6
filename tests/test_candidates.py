"""The candidate grid: union of sub-grids, readable deterministic slugs, epoch-checkpoint runs, phases."""

import json
from pathlib import Path

import pandas as pd
import pytest
from dry_run import SNAKEMAKE, demo_config, planned_jobs

from tweetbert.cli import main
from tweetbert.errors import ConfigError
from tweetbert.modeling.candidates import Candidate, expand_grids, expand_phases, explored_runs, training_runs
from tweetbert.modeling.exploration import candidate_table

DEFAULTS = {"learning_rate": 1e-4, "weight_decay": 0.03, "epochs": 3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}


def test_the_slug_follows_the_architecture_naming_rule():
    candidate = Candidate("dedup", 1e-4, 0.03, 3, 0.9, 0.999, 1e-8)
    assert candidate.slug == "dedup-lr1e-04-wd0.03-ep3-b1_0.9-b2_0.999-eps1e-08"


def test_candidates_are_the_union_of_the_sub_grids_without_duplicates():
    grids = [{"corpus": ["dedup"], "epochs": [1, 2], "beta1": [0.8, 0.9]},
             {"corpus": ["dedup", "balanced"], "epochs": [2]}]
    slugs = [c.slug for c in expand_grids(grids, DEFAULTS, ["dedup", "balanced"])]
    assert len(slugs) == 5 == len(set(slugs))
    assert slugs == sorted(slugs)
    assert "balanced-lr1e-04-wd0.03-ep2-b1_0.9-b2_0.999-eps1e-08" in slugs


def test_grid_order_does_not_change_the_candidates():
    grids = [{"corpus": ["dedup"], "epochs": [2, 1]}, {"corpus": ["balanced"]}]
    assert expand_grids(grids, DEFAULTS, ["dedup", "balanced"]) == expand_grids(grids[::-1], DEFAULTS,
                                                                                 ["balanced", "dedup"])


def test_an_unknown_corpus_in_a_grid_names_the_key():
    with pytest.raises(ConfigError, match=r"pretrain\.grids\.0\.corpus"):
        expand_grids([{"corpus": ["raw"]}], DEFAULTS, ["dedup"])


def test_epoch_checkpoints_map_smaller_epochs_onto_the_longest_run():
    candidates = expand_grids([{"corpus": ["dedup"], "epochs": [1, 2, 3]}], DEFAULTS, ["dedup"])
    runs = training_runs(candidates, epoch_checkpoints=True)
    assert {run.slug for run, _ in runs.values()} == {candidates[-1].slug}
    assert sorted(epoch for _, epoch in runs.values()) == [1, 2, 3]
    assert {run.slug for run, _ in training_runs(candidates, False).values()} == {c.slug for c in candidates}


def test_the_cli_prints_the_thesis_grid(capsys):
    assert main(["candidates", "--config", str(Path(__file__).parents[1] / "configs" / "thesis.yaml")]) == 0
    slugs = capsys.readouterr().out.split()
    assert len(slugs) == 96
    assert "dedup-lr1e-04-wd0.03-ep6-b1_0.8-b2_0.9999-eps1e-05" in slugs


def test_a_slug_names_its_candidate_back():
    for candidate in expand_grids([{"corpus": ["dedup", "balanced"], "epsilon": [1e-8, 1e-5],
                                    "learning_rate": [5e-4, 1e-4]}], DEFAULTS, ["dedup", "balanced"]):
        assert Candidate.from_slug(candidate.slug) == candidate
    with pytest.raises(ValueError, match="not a candidate slug"):
        Candidate.from_slug("dedup-lr-high")


def test_slugs_are_exact_so_close_learning_rates_stay_three_candidates():
    candidates = expand_grids([{"corpus": ["dedup"], "learning_rate": [2.5e-4, 3e-4, 1.5e-4]}], DEFAULTS, ["dedup"])
    assert [c.learning_rate for c in candidates] == [1.5e-4, 2.5e-4, 3e-4]
    assert [c.slug.split("-wd")[0] for c in candidates] == ["dedup-lr1.5e-04", "dedup-lr2.5e-04", "dedup-lr3e-04"]


@pytest.mark.parametrize("field, value", [("learning_rate", 1.2345678901234567e-4), ("epsilon", 3.3e-9),
                                          ("weight_decay", 0.0312345678), ("weight_decay", 1.5e-5),
                                          ("beta1", 0.9999999), ("beta2", 0.99999999)])
def test_every_value_reads_back_exactly_from_its_slug(field, value):
    candidate = expand_grids([{"corpus": ["dedup"], field: [value]}], DEFAULTS, ["dedup"])[0]
    assert getattr(Candidate.from_slug(candidate.slug), field) == value


def test_a_value_listed_twice_in_one_sub_grid_is_a_config_error_naming_both_points():
    both = r"pretrain\.grids\.0.*learning_rate\[1\]=0\.0001.*learning_rate\[0\]=0\.0001"
    with pytest.raises(ConfigError, match=both):
        expand_grids([{"corpus": ["dedup"], "learning_rate": [1e-4, 0.0001]}], DEFAULTS, ["dedup"])


EXPLORATION = {"phase": "exploration", "corpus": ["dedup"], "learning_rate": [1e-4, 5e-4], "weight_decay": [0.0, 0.03],
               "epochs": [1]}


def test_only_candidates_phase_grids_are_candidates():
    phases = expand_phases([EXPLORATION, {"corpus": ["dedup"], "epochs": [1, 2]}], DEFAULTS, ["dedup"])
    assert [c.slug for c in phases["candidates"]] == ["dedup-lr1e-04-wd0.03-ep1-b1_0.9-b2_0.999-eps1e-08",
                                                      "dedup-lr1e-04-wd0.03-ep2-b1_0.9-b2_0.999-eps1e-08"]
    assert len(phases["exploration"]) == 4
    assert expand_grids([EXPLORATION], DEFAULTS, ["dedup"]) == []


def test_an_unknown_phase_names_the_key():
    with pytest.raises(ConfigError, match=r"pretrain\.grids\.1\.phase"):
        expand_phases([EXPLORATION, {"phase": "warmup", "corpus": ["dedup"]}], DEFAULTS, ["dedup"])


def test_an_explored_point_that_is_a_candidate_is_trained_once_by_the_candidates_run():
    phases = expand_phases([EXPLORATION, {"corpus": ["dedup"], "epochs": [1]}], DEFAULTS, ["dedup"])
    candidate_runs = training_runs(phases["candidates"], epoch_checkpoints=False)
    runs = explored_runs(phases["exploration"], candidate_runs, epoch_checkpoints=False)
    shared = "dedup-lr1e-04-wd0.03-ep1-b1_0.9-b2_0.999-eps1e-08"
    assert runs[shared] == candidate_runs[shared]
    assert len({run.slug for run, _ in [*runs.values(), *candidate_runs.values()]}) == 4


def test_exploration_never_lengthens_a_candidates_epoch_checkpoint_run():
    candidates = expand_grids([{"corpus": ["dedup"], "epochs": [1, 3]}], DEFAULTS, ["dedup"])
    candidate_runs = training_runs(candidates, epoch_checkpoints=True)
    explored = expand_grids([{"phase": "exploration", "corpus": ["dedup"], "epochs": [2, 5]}], DEFAULTS, ["dedup"],
                            "exploration")
    runs = explored_runs(explored, candidate_runs, epoch_checkpoints=True)
    assert candidate_runs == training_runs(candidates, epoch_checkpoints=True)
    three, five = (Candidate("dedup", 1e-4, 0.03, epochs, 0.9, 0.999, 1e-8) for epochs in (3, 5))
    assert runs[Candidate("dedup", 1e-4, 0.03, 2, 0.9, 0.999, 1e-8).slug] == (three, 2)  # a checkpoint of ep3
    assert runs[five.slug] == (five, 5)  # longer than every candidate run: a run of its own


def test_the_cli_lists_the_thesis_exploration_phase(capsys):
    thesis = str(Path(__file__).parents[1] / "configs" / "thesis.yaml")
    assert main(["candidates", "--config", thesis, "--phase", "exploration"]) == 0
    slugs = capsys.readouterr().out.split()
    assert len(slugs) == 4 * 4 + 4  # lr x wd at 1 epoch, then epochs 2..5 (the wd sweep is the heatmap's row)
    assert "dedup-lr1e-05-wd0.1-ep1-b1_0.9-b2_0.999-eps1e-08" in slugs


def write_run(runs: Path, run: Candidate, loss: float) -> None:
    (runs / run.slug).mkdir(parents=True)
    (runs / run.slug / "metrics.json").write_text(json.dumps({"final_validation_loss": loss}))


def test_the_exploration_table_has_a_row_per_point_and_phase_and_every_plot_is_drawn(tmp_path):
    phases = expand_phases([EXPLORATION, {"corpus": ["dedup"], "epochs": [1, 2]}], DEFAULTS, ["dedup"])
    candidate_runs = training_runs(phases["candidates"], epoch_checkpoints=False)
    runs = explored_runs(phases["exploration"], candidate_runs, epoch_checkpoints=False)
    metrics = []
    for loss, (run, _) in enumerate(sorted({run.slug: (run, 0) for run, _ in [*runs.values(),
                                                                              *candidate_runs.values()]}.values())):
        write_run(tmp_path / "runs", run, 2.0 + loss)
        metrics += ["--metrics", f"{run.slug}={tmp_path / 'runs' / run.slug / 'metrics.json'}"]
    args = ["pretrain-exploration", *metrics, "--learning-rate", "1e-4",
            "--table", str(tmp_path / "candidates.tsv"), "--table-html", str(tmp_path / "candidates.html"),
            "--heatmap", str(tmp_path / "heatmap.png"),
            "--weight-decay-plot", str(tmp_path / "wd.png"), "--epochs-plot", str(tmp_path / "epochs.png")]
    for option, of_phase in (("--explored", runs), ("--candidate", candidate_runs)):
        for slug, (run, epoch) in of_phase.items():
            args += [option, f"{slug}={run.slug}:{epoch}"]
    assert main(args) == 0
    table = pd.read_csv(tmp_path / "candidates.tsv", sep="\t")
    assert table["phase"].value_counts().to_dict() == {"exploration": 4, "candidates": 2}
    shared = table[table["candidate"] == "dedup-lr1e-04-wd0.03-ep1-b1_0.9-b2_0.999-eps1e-08"]
    assert sorted(shared["phase"]) == ["candidates", "exploration"] and shared["validation_loss"].nunique() == 1
    assert table["phase"].tolist() == ["exploration"] * 4 + ["candidates"] * 2
    for figure in ("heatmap.png", "wd.png", "epochs.png"):
        assert (tmp_path / figure).stat().st_size > 0


def test_an_earlier_epoch_is_read_from_the_given_epoch_models_and_a_missing_one_is_named(tmp_path):
    run = Candidate("dedup", 1e-4, 0.03, 3, 0.9, 0.999, 1e-8)
    earlier = Candidate("dedup", 1e-4, 0.03, 2, 0.9, 0.999, 1e-8)
    write_run(tmp_path / "runs", run, 3.0)
    epoch_models = tmp_path / "elsewhere" / "epochs"  # any path: the table follows the options, not a layout
    (epoch_models / "epoch-2").mkdir(parents=True)
    (epoch_models / "epoch-2" / "metrics.json").write_text(json.dumps({"validation_loss": 2.5}))
    points = {"candidates": {earlier.slug: (run, 2), run.slug: (run, 3)}}
    table = candidate_table(points, {run.slug: tmp_path / "runs" / run.slug / "metrics.json"},
                            {run.slug: epoch_models})
    assert dict(zip(table["candidate"], table["validation_loss"])) == {earlier.slug: 2.5, run.slug: 3.0}
    with pytest.raises(ConfigError, match="--epoch-models"):
        candidate_table(points, {run.slug: tmp_path / "runs" / run.slug / "metrics.json"}, {})


@pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed")
def test_the_demo_pretrains_its_exploration_points_but_fine_tunes_only_candidates(tmp_path):
    jobs = planned_jobs(tmp_path, demo_config())
    explored_only = "dedup-lr5e-04-wd0-ep1-b1_0.9-b2_0.999-eps1e-08"
    assert any(f"/runs/{explored_only}/" in job.text for job in jobs if job.rule == "pretrain_candidate")
    assert not any(explored_only in job.text for job in jobs if job.rule.startswith("finetune"))
    table = next(job.command for job in jobs if job.rule == "pretrain_exploration")
    assert ("--explored dedup-lr5e-04-wd0.03-ep1-b1_0.9-b2_0.999-eps1e-08="
            "dedup-lr5e-04-wd0.03-ep2-b1_0.9-b2_0.999-eps1e-08:1") in table  # an epoch of a candidate's run
    assert table.count("--explored ") == 4 and table.count("--candidate ") == 8
