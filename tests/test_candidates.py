"""The candidate grid: union of sub-grids, readable deterministic slugs, epoch-checkpoint runs."""

from pathlib import Path

import pytest

from tweetbert.cli import main
from tweetbert.errors import ConfigError
from tweetbert.modeling.candidates import Candidate, expand_grids, training_runs

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
