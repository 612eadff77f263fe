"""ADA, DiffAugment and Diffusion-GAN's forward diffusion as separate units."""

import pytest
import torch

from toolkit.augment import AdaptiveAugment, DiffAugment, ForwardDiffusion, ada_adjust
from toolkit.errors import ToolkitError


def _asymmetric(n=400):
    """Images that look different flipped or rotated: a bright pixel in the top-left corner."""
    x = -torch.ones(n, 1, 32, 32)
    x[:, :, 2, 5] = 1.0
    return x


def test_p_zero_is_exactly_the_identity():
    x = torch.rand(16, 3, 32, 32) * 2 - 1
    assert torch.equal(AdaptiveAugment(p=0.0)(x), x)


def test_at_p_one_every_image_changes_and_values_stay_finite():
    x = torch.rand(64, 3, 32, 32) * 2 - 1
    y = AdaptiveAugment(p=1.0)(x)
    assert torch.isfinite(y).all()
    assert ((y - x).flatten(1).abs().max(1).values > 1e-3).all()


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8, 1.0])
def test_xflip_is_drawn_with_p_then_flips_half_the_time_as_the_paper(p):
    """stylegan2-ada: the op is drawn with probability p, then flips with probability 1/2, so p/2 of the
    images are mirrored. Below p = 1 the unflipped orientation stays the more likely one; at p = 1 both are
    equally likely, which is why x-flip leaks there."""
    torch.manual_seed(0)
    x = _asymmetric(4000)
    y = AdaptiveAugment(p=p, ops=("xflip",))(x)
    flipped = (y[:, 0, 2, 32 - 1 - 5] == 1.0).float().mean().item()
    assert abs(flipped - p / 2) < 0.03
    assert torch.equal(y[y[:, 0, 2, 5] == 1.0], x[y[:, 0, 2, 5] == 1.0])  # the others untouched, exactly


def test_rotate90_moves_the_pixel_with_share_three_quarters_p():
    torch.manual_seed(1)
    x = _asymmetric(4000)
    y = AdaptiveAugment(p=0.6, ops=("rotate90",))(x)
    moved = (y[:, 0, 2, 5] != 1.0).float().mean().item()
    assert abs(moved - 0.6 * 0.75) < 0.03  # k = 0 of the 4 rotations leaves it in place
    assert torch.allclose(y.sum((1, 2, 3)), x.sum((1, 2, 3)))  # a permutation of pixels: nothing lost


def test_integer_translation_uses_reflection_not_black_borders():
    torch.manual_seed(2)
    x = torch.rand(256, 1, 32, 32) * 0.5 + 0.25  # all values in [0.25, 0.75]
    y = AdaptiveAugment(p=1.0, ops=("translate",))(x)
    assert y.min() >= 0.25 - 1e-5 and y.max() <= 0.75 + 1e-5  # no padding value appears
    assert (y != x).flatten(1).any(1).float().mean() > 0.8


def test_gradients_flow_through_every_augmentation():
    for aug in (AdaptiveAugment(p=1.0), DiffAugment(), ForwardDiffusion(p=1.0)):
        x = (torch.rand(8, 3, 32, 32) * 2 - 1).requires_grad_(True)
        out = aug(x)
        out = out[0] if isinstance(out, tuple) else out
        (out**2).sum().backward()
        assert x.grad is not None and x.grad.abs().sum() > 0, type(aug).__name__


def test_ada_adjust_hand_computed():
    p = torch.tensor(0.5)
    assert ada_adjust(p, torch.tensor(0.9), 0.6, 256, 10.0).item() == pytest.approx(0.5 + 256 / 10_000)
    assert ada_adjust(p, torch.tensor(0.1), 0.6, 256, 10.0).item() == pytest.approx(0.5 - 256 / 10_000)
    assert ada_adjust(torch.tensor(0.999), torch.tensor(1.0), 0.6, 256, 10.0).item() == 1.0  # clipped
    assert ada_adjust(torch.tensor(0.0), torch.tensor(-1.0), 0.6, 256, 10.0).item() == 0.0


def test_controller_raises_p_when_d_overfits_and_lowers_it_otherwise():
    aug = AdaptiveAugment(p=0.0, target=0.6, kimg=1.0, interval=4)
    for _ in range(3):
        aug.observe(torch.ones(64))  # D calls every real image real: r_t = 1 > 0.6
    assert aug.p.item() == 0.0  # not yet: p moves every 4 D steps
    aug.observe(torch.ones(64))
    assert aug.p.item() == pytest.approx(256 / 1000) and aug.rt.item() == 1.0
    for _ in range(4):
        aug.observe(torch.tensor([1.0, -1.0] * 32))  # r_t = 0 < 0.6
    assert aug.p.item() == pytest.approx(0.0, abs=1e-6)


def test_controller_state_round_trips_through_state_dict():
    a = AdaptiveAugment(kimg=1.0, interval=4)
    for _ in range(6):
        a.observe(torch.ones(8))
    b = AdaptiveAugment(kimg=1.0, interval=4)
    b.load_state_dict(a.state_dict())
    a.observe(torch.ones(8)), a.observe(torch.ones(8))
    b.observe(torch.ones(8)), b.observe(torch.ones(8))
    assert a.p.item() == b.p.item() > 0.0


def test_diffaugment_changes_every_image_and_keeps_shape():
    x = torch.rand(32, 3, 32, 32) * 2 - 1
    y = DiffAugment()(x)
    assert y.shape == x.shape and ((y - x).flatten(1).abs().max(1).values > 1e-3).all()
    cut = DiffAugment()(torch.ones(64, 1, 32, 32) * 5)  # cutout zeroes a 16x16 square (minus borders)
    assert ((cut == 0).flatten(1).sum(1) > 0).all()


def diffaugment_reference(x: torch.Tensor) -> torch.Tensor:
    """Zhao et al. 2020's 'color,translation,cutout', written plainly (loops, no grid_sample), drawing the
    same random numbers in the same order as the toolkit."""
    b, c, h, w = x.shape
    x = x + (torch.rand(b, 1, 1, 1) - 0.5)  # brightness
    if c > 1:
        m = x.mean(1, keepdim=True)
        x = (x - m) * (torch.rand(b, 1, 1, 1) * 2) + m  # saturation
    m = x.mean((1, 2, 3), keepdim=True)
    x = (x - m) * (torch.rand(b, 1, 1, 1) + 0.5) + m  # contrast
    dx, dy = torch.randint(-(w // 8), w // 8 + 1, (b,)), torch.randint(-(h // 8), h // 8 + 1, (b,))
    out = torch.zeros_like(x)  # translation: output pixel (i, j) shows input (i + dy, j + dx), zeros outside
    for k in range(b):
        for i in range(h):
            for j in range(w):
                si, sj = i + int(dy[k]), j + int(dx[k])
                if 0 <= si < h and 0 <= sj < w:
                    out[k, :, i, j] = x[k, :, si, sj]
    cy, cx = torch.randint(0, h, (b,)), torch.randint(0, w, (b,))
    for k in range(b):  # cutout: a square of half the size, centred at (cy, cx)
        for i in range(h):
            for j in range(w):
                if abs(i - int(cy[k])) < h // 4 and abs(j - int(cx[k])) < w // 4:
                    out[k, :, i, j] = 0
    return out


@pytest.mark.parametrize("channels", [1, 3])
def test_diffaugment_equals_a_plain_reference_on_the_same_random_draws(channels):
    """Found by mutation testing: DiffAugment's values were never checked, only that it changed images."""
    x = torch.rand(6, channels, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    torch.manual_seed(1)
    got = DiffAugment()(x)
    torch.manual_seed(1)
    want = diffaugment_reference(x)
    assert torch.allclose(got, want, atol=1e-5)


def test_forward_diffusion_schedule_and_timesteps():
    d = ForwardDiffusion(t_max=100, t_min=5, sigma=1.0)
    assert d.alpha_bar[0] == 1.0 and (d.alpha_bar[1:] < d.alpha_bar[:-1]).all()  # less signal as t grows
    x = torch.rand(4, 1, 8, 8)
    assert torch.equal(d.diffuse(x, torch.zeros(4, dtype=torch.long)), x)  # t = 0: the clean image
    assert d.T.item() == 5
    t = d.sample_t(10_000, "cpu")
    assert t.min() >= 0 and t.max() <= 5
    assert (t == 5).float().mean() > (t == 1).float().mean()  # priority: large t more often
    big = d.diffuse(torch.zeros(20_000, 1, 1, 1), torch.full((20_000,), 100))
    assert big.std().item() == pytest.approx((1 - d.alpha_bar[100]).sqrt().item(), rel=0.03)


def test_diffusion_T_adapts_with_r_t():
    d = ForwardDiffusion(t_max=100, t_min=5, target=0.6, kimg=1.0, interval=1)
    for _ in range(3):
        d.observe(torch.ones(100))
    assert d.T.item() == pytest.approx(5 + 0.3 * 95)
    d.observe(-torch.ones(100))
    assert d.T.item() == pytest.approx(5 + 0.2 * 95)
    assert set(d.stats()) == {"diffusion_t", "diffusion_p"}


def test_bad_ops_are_named():
    with pytest.raises(ToolkitError, match="unknown ADA ops"):
        AdaptiveAugment(ops=("xflip", "blur"))
