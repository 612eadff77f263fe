"""Diffusion-GAN's timesteps and schedule as the authors' code draws them
(github.com/Zhendong-Wang/Diffusion-GAN, diffusion-stylegan2/training/diffusion.py): the linear schedule is
rebuilt over the current T at every update of T, and each image's t comes from a 64-slot table whose 32
noised slots are drawn with 'priority' weighting and whose other 32 hold t = 0."""

import math

import pytest
import torch

from toolkit.augment import ForwardDiffusion, linear_alpha_bar


def _binomial_interval(n: int, p: float = 0.5, z: float = 4.0) -> tuple[float, float]:
    half = z * math.sqrt(p * (1 - p) / n)
    return p - half, p + half


def _overfitting(d: ForwardDiffusion, intervals: int) -> None:
    """r_t = 1 for ``intervals`` controller updates: p (and T) grow at every update."""
    for _ in range(intervals * d.interval):
        d.observe(torch.ones(64))


def test_about_half_of_what_d_sees_is_the_clean_image():
    torch.manual_seed(0)
    d = ForwardDiffusion(t_max=1000, t_min=10, kimg=1.0, interval=1)
    clean, n = 0, 0
    for _ in range(40):  # 40 updates of T, each with its own table, 500 images after each
        _overfitting(d, 1)
        _, t = d(torch.zeros(500, 1, 2, 2))
        clean, n = clean + (t == 0).sum().item(), n + t.numel()
    low, high = _binomial_interval(n)
    assert low < clean / n < high, f"{clean / n:.3f} of the images at t = 0, outside [{low:.3f}, {high:.3f}]"
    assert d.num_timesteps == 10 + round(d.p.item() * 990) > 500  # T grew far past t_min meanwhile
    table = d.t_table
    assert (table == 0).sum() == 32 and ((table[:32] >= 1) & (table[:32] <= d.num_timesteps)).all()


def test_the_schedule_is_rebuilt_over_the_current_T_whenever_T_changes():
    d = ForwardDiffusion(t_max=1000, t_min=10, kimg=1.0, interval=4)
    assert d.num_timesteps == 10 and d.alpha_bar.numel() == 11
    d.observe(torch.ones(64))  # 1 of 4 D steps: p and the schedule stay
    assert d.num_timesteps == 10
    for _ in range(3):
        d.observe(torch.ones(64))
    # p moved by 4 * 64 / 1000 = 0.256: T = 10 + round(0.256 * 990) = 10 + 253
    assert d.p.item() == pytest.approx(0.256)
    assert d.num_timesteps == 263 and d.alpha_bar.numel() == 264
    a = d.alpha_bar.double()
    assert torch.allclose(a, linear_alpha_bar(263).double())  # over T = 263 steps, not a cut of t_max's
    assert 1 - (a[-1] / a[-2]).item() == pytest.approx(2e-2, abs=1e-5)  # the last beta is 2e-2 at any T
    assert int(d.t_table.max()) <= 263 and int(d.t_table.max()) > 200  # drawn from the new 1..T
    for _ in range(4):
        d.observe(-torch.ones(64))  # r_t = -1: p and T come back down
    assert d.num_timesteps == 10 and int(d.t_table.max()) <= 10


@pytest.mark.parametrize("T", [2, 10, 263, 1000])
def test_betas_run_linearly_from_1e_4_to_2e_2_over_T(T):
    d = ForwardDiffusion(t_max=T, t_min=T)
    a = d.alpha_bar.double()
    betas = 1 - a[1:] / a[:-1]  # a_t = a_{t-1} (1 - beta_t)
    assert betas.numel() == T
    want = torch.tensor([1e-4 + (2e-2 - 1e-4) * i / (T - 1) for i in range(T)], dtype=torch.float64)
    assert torch.allclose(betas, want, atol=2e-6)
    # so a larger T ends in stronger noise: a_T = prod (1 - beta_s) ~ exp(-T (1e-4 + 2e-2) / 2)
    assert a[-1].item() == pytest.approx(math.prod(1 - float(b) for b in want), rel=1e-5)


def test_a_three_step_schedule_and_its_priority_table_by_hand():
    """T = 3: betas 1e-4, 0.01005, 0.02; priority weights 0, 1, 2 for t = 1, 2, 3."""
    a = linear_alpha_bar(3).double()
    want = [1.0, 0.9999, 0.9999 * 0.98995, 0.9999 * 0.98995 * 0.98]
    assert torch.allclose(a, torch.tensor(want, dtype=torch.float64), atol=1e-7)
    torch.manual_seed(1)
    d = ForwardDiffusion(t_max=3, t_min=3)
    counts = torch.zeros(4)
    for _ in range(300):  # 300 tables of 32 noised slots
        d.update_T()
        counts += torch.bincount(d.t_table[:32], minlength=4)
        assert (d.t_table[32:] == 0).all()
    share = counts / counts.sum()
    assert share[0] == 0 and share[1] == 0  # t = 1 has weight 0, as in the reference (np.arange(T))
    low, high = _binomial_interval(int(counts.sum()), 2 / 3)
    assert low < share[3].item() < high and share[2].item() == pytest.approx(1 - share[3].item())
    t = d.sample_t(20_000, "cpu")  # each image takes the t of one of the 64 slots, each equally likely
    assert (t == 1).sum() == 0
    for k in (0, 2, 3):
        expected = (d.t_table == k).float().mean().item()  # 1/2 for t = 0
        low, high = _binomial_interval(20_000, expected)
        assert low < (t == k).float().mean().item() < high


def test_uniform_sampling_and_the_single_step_schedule():
    torch.manual_seed(2)
    d = ForwardDiffusion(t_max=4, t_min=4, sampling="uniform")
    counts = torch.zeros(5)
    for _ in range(400):
        d.update_T()
        counts += torch.bincount(d.t_table[:32], minlength=5)
    share = counts[1:] / counts.sum()
    low, high = _binomial_interval(int(counts.sum()), 0.25)
    assert counts[0] == 0 and ((share > low) & (share < high)).all()
    one = ForwardDiffusion(t_max=1, t_min=1)  # the reference's weights would all be 0 here: t = 1 always
    assert (one.t_table[:32] == 1).all() and (one.t_table[32:] == 0).all()


def test_resume_restores_the_table_and_the_schedule_exactly():
    torch.manual_seed(3)
    a = ForwardDiffusion(kimg=1.0, interval=4)
    for _ in range(6):  # one update of T and half of the next interval
        a.observe(torch.ones(64))
    b = ForwardDiffusion(kimg=1.0, interval=4)  # a fresh module (its own table), then the checkpoint
    b.load_state_dict(a.state_dict())
    assert torch.equal(b.t_table, a.t_table) and torch.equal(b.alpha_bar, a.alpha_bar)
    x = torch.rand(16, 1, 4, 4)
    outputs = []
    for module in (a, b):
        torch.manual_seed(4)
        for _ in range(2):  # finishes the interval: T moves and a new table is drawn
            module.observe(torch.ones(64))
        outputs.append((module(x), module.num_timesteps, module.t_table.clone()))
    (xa, ta), Ta, table_a = outputs[0][0], outputs[0][1], outputs[0][2]
    (xb, tb), Tb, table_b = outputs[1][0], outputs[1][1], outputs[1][2]
    assert Ta == Tb > 10 and torch.equal(table_a, table_b) and torch.equal(ta, tb) and torch.equal(xa, xb)
