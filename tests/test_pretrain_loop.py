"""The pre-training loop's parts that keep the GPU busy: the validation sample, prefetched batches, checkpoints
copied off the device before they are written, and when a checkpoint is due."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from tweetbert.modeling.checkpoint import TrainingState, snapshot, write_checkpoint
from tweetbert.modeling.prefetch import Prefetched
from tweetbert.modeling.pretrain import PretrainSettings, save_due_by_clock, save_due_by_steps
from tweetbert.modeling.pretrain_data import validation_sample
from tweetbert.modeling.pretrain_model import linear_schedule
from tweetbert.modeling.pretrain_resume import CheckpointWriter

SETTINGS = PretrainSettings()


def test_the_validation_sample_is_seeded_sorted_distinct_and_all_texts_when_null_or_larger():
    sample = validation_sample(1000, 100, seed=3)
    assert len(sample) == 100 == len(set(sample.tolist())) and np.all(np.diff(sample) > 0) and sample.max() < 1000
    assert np.array_equal(sample, validation_sample(1000, 100, seed=3))
    assert not np.array_equal(sample, validation_sample(1000, 100, seed=4))
    assert np.array_equal(validation_sample(50, None, 3), np.arange(50))
    assert np.array_equal(validation_sample(50, 80, 3), np.arange(50))


def test_prefetched_items_arrive_in_order_and_an_error_is_raised_at_its_item():
    assert list(Prefetched(iter(range(100)), depth=3)) == list(range(100))

    def failing():
        yield 1
        raise ValueError("batch 2 is bad")

    items = Prefetched(failing())
    assert next(items) == 1
    with pytest.raises(ValueError, match="batch 2 is bad"):
        next(items)


def test_closing_a_prefetcher_early_stops_its_thread():
    made = []

    def endless():
        while True:
            made.append(len(made))
            yield made[-1]

    with Prefetched(endless(), depth=2) as items:
        assert next(items) == 0
    assert not items._thread.is_alive() and len(made) <= 5


def test_a_snapshot_is_a_copy_so_training_on_does_not_change_the_checkpoint_written_later(tmp_path):
    from safetensors.torch import load_file

    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    schedule = linear_schedule(optimizer, 1, 10)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    schedule.step()
    taken = snapshot(model, optimizer, schedule, TrainingState(step=1), {"run": "x"})
    weight = model.weight.detach().clone()
    optimizer.step()  # training goes on before the checkpoint is written
    schedule.step()
    writer = CheckpointWriter(tmp_path)
    writer.submit(taken)
    writer.wait()
    saved = tmp_path / "step-00000001"
    assert torch.equal(load_file(saved / "model.safetensors")["weight"], weight)
    assert not torch.equal(weight, model.weight.detach())
    assert write_checkpoint(tmp_path, taken) == saved  # the same step again: kept, not rewritten


def test_a_failed_background_write_is_raised_on_the_training_thread(tmp_path):
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    taken = snapshot(model, optimizer, linear_schedule(optimizer, 1, 10), TrainingState(step=1), {})
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the checkpoint directory should be")
    writer = CheckpointWriter(blocked)
    writer.submit(taken)
    with pytest.raises(OSError):
        writer.wait()


def test_checkpoints_are_due_by_the_clock_by_default_and_by_steps_when_asked():
    assert SETTINGS.save_every is None and SETTINGS.save_every_minutes == 30
    assert not save_due_by_clock(SETTINGS, 29 * 60) and save_due_by_clock(SETTINGS, 30 * 60)
    assert not save_due_by_steps(SETTINGS, 2000)
    by_steps = replace(SETTINGS, save_every=500, save_every_minutes=None)
    assert save_due_by_steps(by_steps, 1000) and not save_due_by_steps(by_steps, 999)
    assert not save_due_by_clock(by_steps, 10**6)
    with pytest.raises(ValueError, match="save_every_minutes must be None or positive"):
        replace(SETTINGS, save_every_minutes=0)
