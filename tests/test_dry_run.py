"""What the workflow plans for a config, checked with dry runs: every setting reaches the jobs it concerns."""

import pytest
from dry_run import SNAKEMAKE, demo_config, dry_run

pytestmark = pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed")


def test_every_learning_rate_of_a_grid_trains_as_its_own_candidate(tmp_path):
    config = demo_config()
    config["pretrain"]["grids"] = [{"corpus": ["dedup"], "learning_rate": [2.5e-4, 3e-4, 1.5e-4], "epochs": [1]}]
    jobs = [job for job in dry_run(tmp_path, config) if job.rule == "pretrain_candidate"]
    trained = {}
    for job in jobs:
        words = job.command.split()
        run = words[words.index("--output") + 1].rsplit("/", 1)[1]
        trained[run] = float(words[words.index("--learning-rate") + 1])
    assert trained == {"dedup-lr1.5e-04-wd0.03-ep1-b1_0.9-b2_0.999-eps1e-08": 1.5e-4,
                       "dedup-lr2.5e-04-wd0.03-ep1-b1_0.9-b2_0.999-eps1e-08": 2.5e-4,
                       "dedup-lr3e-04-wd0.03-ep1-b1_0.9-b2_0.999-eps1e-08": 3e-4}
