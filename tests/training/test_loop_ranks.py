"""The loop's part in data parallelism, in one process: with torch.distributed's collectives replaced by
recorders, this is rank 2 of 3, and the tests check what the loop hands the collectives and when: rank 0's
weights at the start, then this rank's own noise; each phase's gradients averaged over that phase's nets; the
logged values meaned and the batch-norm statistics broadcast at every log step; a stop agreed at the next log
step; and this rank's slice of every batch.

The collectives themselves are tested across real processes in tests/integration/test_distributed.py
(torchrun); these tests exist because mutation testing cannot see into those child processes, and the loop's
ranks-only lines survived every mutation there."""

import pytest
import torch

import toolkit.training.loop as loop
from toolkit.distributed import World
from toolkit.families import config_for
from toolkit.training import TrainConfig, Trainer

RANK_2_OF_3 = World(rank=2, size=3, local_rank=2)


class Collectives:
    """Stand-ins for toolkit.distributed's collectives that record their arguments."""

    def __init__(self):
        self.joined, self.averaged, self.broadcast, self.meaned, self.asked = [], [], [], [], []

    def join(self, device):
        self.joined.append(device)
        return RANK_2_OF_3

    def average_gradients(self, modules, world):
        self.averaged.append((list(modules), world))

    def broadcast_tensors(self, tensors, world):
        self.broadcast.append((list(tensors), world))

    def all_mean(self, values, world):
        self.meaned.append(({k: float(v) for k, v in values.items()}, world))
        return {k: torch.zeros_like(v) for k, v in values.items()}  # as if the other rank's sums cancelled

    def any_rank(self, flag, world, device):
        self.asked.append((flag, world, device))
        return flag


@pytest.fixture
def collectives(monkeypatch):
    fake = Collectives()
    for name in ("join", "average_gradients", "broadcast_tensors", "all_mean", "any_rank"):
        monkeypatch.setattr(loop, name, getattr(fake, name))
    return fake


def _config(**kw):
    base = dict(data="digits", steps=6, batch_size=8, width=4, z_dim=8, log_every=3, sample_every=0)
    base.update(checkpoint_every=0, seed=11, threads=1, ema=0.5)
    base.update(kw)
    return TrainConfig.for_model("dcgan", **base)


def _same(a, b):
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def test_a_rank_starts_from_rank_0s_weights_then_draws_its_own_noise(collectives):
    trainer = Trainer(_config())
    assert collectives.joined == [trainer.device] and trainer.world == RANK_2_OF_3
    (tensors, world), *_ = collectives.broadcast
    nets = [*trainer.family.nets.values(), trainer.ema["G"].model]  # and the EMA copy
    assert world == RANK_2_OF_3 and _same(tensors, [t for m in nets for t in (*m.parameters(), *m.buffers())])
    reseeded = torch.Generator().manual_seed(11 + 1_000_003 * 2)  # seed + 1,000,003 x rank
    assert torch.equal(torch.randn(5), torch.randn(5, generator=reseeded))
    sampler = trainer.batches
    assert (sampler.rank, sampler.world_size) == (2, 3)  # slice 2 of a global batch of 3 x 8
    assert trainer.writer is None and trainer.progress is False  # only rank 0 writes and prints
    assert trainer.describe()["world_size"] == 3 and trainer.describe()["effective_batch"] == 24


def test_two_domain_data_gets_this_ranks_slice_too(collectives):
    from toolkit.data.translation import load_translation

    data = load_translation("gray2color", limit=8)
    trainer = Trainer(config_for("pix2pix", batch_size=2, width=4, d_width=4, threads=1), data=data)
    assert (trainer.batches.rank, trainer.batches.world_size) == (2, 3)


def test_each_phases_gradients_are_averaged_over_its_own_nets(collectives):
    trainer = Trainer(_config(steps=2))
    trainer.fit()
    D, G = trainer.family.nets["D"], trainer.family.nets["G"]
    assert [(m, w) for m, w in collectives.averaged] == [([D], RANK_2_OF_3), ([G], RANK_2_OF_3)] * 2


def test_a_log_step_means_the_values_over_ranks_and_broadcasts_the_batch_norm_statistics(collectives):
    trainer = Trainer(_config(steps=3))
    collectives.broadcast.clear()
    rows = trainer.fit()
    ((sums, world),) = collectives.meaned
    assert world == RANK_2_OF_3 and {"loss_d", "loss_g", "d_real_acc"} <= set(sums)
    assert sums["loss_d"] > 0  # this rank's sums over the interval went in ...
    assert all(v == 0.0 for k, v in rows[0].items() if k not in ("step", "time"))  # ... the means came out
    ((buffers, world),) = collectives.broadcast
    nets = [*trainer.family.nets.values(), trainer.ema["G"].model]
    assert world == RANK_2_OF_3 and _same(buffers, [b for m in nets for b in m.buffers()]) and buffers


def test_ranks_stop_together_at_the_log_step_after_one_was_asked(collectives):
    trainer = Trainer(_config(steps=9))
    draw = trainer.batches.next

    def next_batch():  # a stop request arrives on this rank during step 4 (e.g. a signal)
        if trainer.step == 3:
            trainer.stop_requested = True
        return draw()

    trainer.batches.next = next_batch
    trainer.fit()
    assert trainer.step == 6  # one process would stop after step 4; ranks finish the interval to agree
    assert collectives.asked == [(False, RANK_2_OF_3, trainer.device), (True, RANK_2_OF_3, trainer.device)]


def test_one_process_stops_right_after_the_step_it_was_asked_in():
    trainer = Trainer(_config(steps=9))
    draw = trainer.batches.next

    def next_batch():
        if trainer.step == 3:
            trainer.stop_requested = True
        return draw()

    trainer.batches.next = next_batch
    trainer.fit()
    assert trainer.step == 4
