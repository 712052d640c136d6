"""benchmarks/gpu_check.sh, the first run on a GPU node, kept working: its whole path in tiny mode on the CPU, and
the arithmetic that leaves compiling out of the steady throughput."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "gpu_check.sh"


def _load_module():
    sys.path.insert(0, str(REPO / "benchmarks"))  # as when run as a script: its sibling modules import
    spec = importlib.util.spec_from_file_location("gpu_check", REPO / "benchmarks" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


gpu_check = _load_module()
STUDY = gpu_check.read_study(gpu_check.STUDY_CONFIG)  # configs/thesis.yaml: batch 55, 20000 texts per 5000 steps


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The shell script in tiny mode (CPU, tiny model, no compile cells), as a user would run it."""
    root = tmp_path_factory.mktemp("gpu_check")
    env = {**os.environ, "GPU_CHECK_TINY": "1", "GPU_CHECK_WORKDIR": str(root / "work"), "OUT": str(root / "out"),
           "PYTHON": sys.executable, "GPU_CHECK_STEPS": "9", "GPU_CHECK_CALIBRATED_STEPS": "9",
           "GPU_CHECK_TWEETS": "1500"}
    done = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    return root, done


def test_tiny_mode_reports_every_figure_for_every_cell(tiny_run):
    root, done = tiny_run
    result = json.loads((root / "out" / "gpu_check.json").read_text())
    assert result == json.loads((root / "work" / "gpu_check.json").read_text())
    assert result["complete"] and result["tiny"] and not result["compile_cells"]
    assert result["study"]["batch_size"] == STUDY.batch_size
    assert result["study"]["source"] == "configs/thesis.yaml pretrain.fixed"
    cells = result["cells"]
    assert [(c["batch_size"], c["batch_source"], c["compile"]) for c in cells] == [
        (STUDY.batch_size, "study", False), (16, "fallback (no GPU: calibration gives none)", False)]
    for c in cells:
        assert c["compiled"] is c["compile"] and c["optimizer_steps"] >= 9
        assert c["tokens_per_second"] > 0 and c["steady"]["tokens_per_second"] > 0 and c["steady"]["steps"] > 0
        assert c["warmup"]["segments"] >= 1 and c["warmup"]["compiling_segments"] == 0
        assert c["mfu"] >= 0 and c["mfu_non_embedding"] >= 0
        assert 0 < c["mean_padded_width"] <= c["max_seq_length"] == 116 and 0 <= c["pad_share"] < 1
        assert set(c["time_shares"]) == {"loading", "training", "validation", "checkpointing", "other"}
        assert all(0 <= share <= 1 for share in c["time_shares"].values())
        assert sum(c["time_shares"].values()) == pytest.approx(1, abs=0.01)
        validation, checkpoints = c["validation"], c["checkpoints"]
        assert len(validation["seconds"]) >= 4 and validation["texts_scored"] == validation["eval_examples"] >= 1
        assert checkpoints["saves"] >= 1 and len(checkpoints["stall_seconds"]) == checkpoints["saves"]
        for part in (validation, checkpoints):
            assert 0 <= part["measured_share"] <= 1 and 0 <= part["projected_share"] <= 1
    assert result["batch_size"] == 16 and result["headline_cell"] == "batch16-compile-off"
    assert result["tokens_per_second"] == cells[1]["steady"]["tokens_per_second"] > 0
    assert result["checkpoint_seconds"] >= 0
    assert result["bound_at_study_batch"]["tokens_per_step"] == cells[0]["tokens_per_step"]
    for key in ("mfu_at_calibrated_batch", "mfu_at_study_batch", "validation_share", "checkpoint_share"):
        assert result["verdicts"][key]
    assert all(f"| {c['name']} |" in done.stdout for c in cells) and "MFU ≥ 35 %" in done.stdout
    assert "no compile-on cells" in done.stderr


def test_steady_throughput_leaves_out_the_first_segment_and_any_that_compiled():
    Mark = gpu_check.Mark
    marks = [Mark(0.0, 0, 0, 0, 0),        # the evaluation at step 0
             Mark(5.0, 1000, 10, 3, 3),    # first segment: warm-up (it compiled, too)
             Mark(6.0, 2000, 20, 3, 3),    # steady: 1000 tokens/s
             Mark(6.0, 2000, 20, 3, 4),    # a save right after the evaluation: no steps between, skipped
             Mark(9.0, 3000, 30, 5, 5),    # compiled a new width: left out
             Mark(11.0, 5000, 40, 5, 6)]   # steady (the evaluation before it compiled, not this segment)
    timing = gpu_check.segments(marks)
    assert timing["steady"]["steps"] == 20 and timing["steady"]["tokens"] == 3000
    assert timing["steady"]["tokens_per_second"] == pytest.approx(1000)
    assert timing["warmup"] | {"extra_seconds": None} == {"steps": 20, "tokens": 2000, "seconds": 8.0,
                                                           "segments": 2, "compiling_segments": 2,
                                                           "extra_seconds": None}
    assert timing["warmup"]["extra_seconds"] == pytest.approx(8.0 - 2.0)
    assert gpu_check.segments(marks[:2])["steady"] is None


def test_each_batch_gets_whole_epochs_of_full_batches_and_the_study_ratio_of_validation():
    one = gpu_check.plan(55, "study", 300, 100_000, STUDY)
    assert (one.epochs, one.steps, one.train_texts) == (1, 300, 300 * 55)
    ratio = STUDY.eval_examples / (STUDY.eval_every * STUDY.batch_size)
    assert one.eval_every == 100 and one.eval_examples == round(ratio * 100 * 55)
    few = gpu_check.plan(1000, "calibrated", 60, 25_000, STUDY)
    assert few.epochs == 3 and few.steps == 60 and few.train_texts == 20 * 1000 <= 25_000
    with pytest.raises(SystemExit, match="GPU_CHECK_TWEETS"):
        gpu_check.plan(64, "calibrated", 60, 63, STUDY)
