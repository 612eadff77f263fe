"""ADA, DiffAugment and Diffusion-GAN's forward diffusion as separate units."""

import math

import pytest
import torch
import torch.nn.functional as F

from toolkit.augment import (
    AdaptiveAugment,
    DiffAugment,
    ForwardDiffusion,
    ada_adjust,
    build_augment,
    linear_alpha_bar,
)
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
    cut = DiffAugment()(torch.ones(64, 1, 32, 32) * 5)  # cutout zeroes a 16x16 square (less at the borders)
    assert ((cut == 0).flatten(1).sum(1) > 0).all()


def test_diffaugment_cuts_out_16_by_16_at_32_pixels_as_the_reference():
    """DiffAugment's rand_cutout (ratio 0.5): int(32 * 0.5 + 0.5) = 16 rows and columns, centre offset drawn
    from 0..32. A square that lies inside the image has exactly 16 x 16 = 256 zeros; none has more."""
    torch.manual_seed(4)
    x = torch.ones(2000, 1, 32, 32) * 5  # colour ops keep it far from 0: only padding and cutout give zeros
    zeros = DiffAugment()(x)[:, 0] == 0
    inner = zeros[:, 4:28, 4:28]  # a 4-pixel shift pads at most 4 border rows/columns with zeros
    rows, cols = inner.any(2).sum(1), inner.any(1).sum(1)
    assert rows.max() == 16 and cols.max() == 16  # 15 with the old strict |y - cy| < 8
    assert (inner.flatten(1).sum(1) <= 256).all()


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
    sx, sy = int(w / 8 + 0.5), int(h / 8 + 0.5)  # the reference's rounding: half a pixel rounds up
    dx, dy = torch.randint(-sx, sx + 1, (b,)), torch.randint(-sy, sy + 1, (b,))
    out = torch.zeros_like(x)  # translation: output pixel (i, j) shows input (i + dy, j + dx), zeros outside
    for k in range(b):
        for i in range(h):
            for j in range(w):
                si, sj = i + int(dy[k]), j + int(dx[k])
                if 0 <= si < h and 0 <= sj < w:
                    out[k, :, i, j] = x[k, :, si, sj]
    size_h, size_w = int(h / 2 + 0.5), int(w / 2 + 0.5)  # cutout: ratio 0.5, rounded half up
    # the centre is drawn from 0..h for an even square, 0..h-1 for an odd one
    cy, cx = torch.randint(0, h + (size_h % 2 == 0), (b,)), torch.randint(0, w + (size_w % 2 == 0), (b,))
    for k in range(b):  # rows cy - size // 2 up to size rows on, the part inside the image
        for i in range(int(cy[k]) - size_h // 2, int(cy[k]) - size_h // 2 + size_h):
            for j in range(int(cx[k]) - size_w // 2, int(cx[k]) - size_w // 2 + size_w):
                if 0 <= i < h and 0 <= j < w:
                    out[k, :, i, j] = 0
    return out


@pytest.mark.parametrize("channels, h, w", [(1, 16, 16), (3, 16, 16), (1, 32, 32), (3, 13, 20)])
def test_diffaugment_equals_a_plain_reference_on_the_same_random_draws(channels, h, w):
    """Found by mutation testing: DiffAugment's values were never checked, only that it changed images.
    13 x 20: an odd cutout (7 rows) and shifts that round half up (int(2.125) = 2, int(3) = 3)."""
    x = torch.rand(6, channels, h, w, generator=torch.Generator().manual_seed(0)) * 2 - 1
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
    assert d.T.item() == 5 and d.num_timesteps == 5
    t = d.sample_t(10_000, "cpu")
    assert t.min() >= 0 and t.max() <= 5
    assert (t == 5).float().mean() > (t == 2).float().mean()  # priority: large t more often
    big = d.diffuse(torch.zeros(20_000, 1, 1, 1), torch.full((20_000,), 5))
    assert big.std().item() == pytest.approx((1 - d.alpha_bar[5]).sqrt().item(), rel=0.03)


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


def ada_reference(x: torch.Tensor, p: float, max_translate: float = 0.125) -> torch.Tensor:
    """ADA's 'bgc' pipeline written one image at a time: each op that hits an image multiplies that image's
    own 3x3 matrix (an op that misses leaves it alone, no identity values), only images some geometric op
    hit are resampled, then the colour ops. Draws the same random numbers in the same order as the toolkit."""
    b, c, h, w = x.shape
    mats = [torch.eye(3, dtype=torch.float64) for _ in range(b)]
    moved = [False] * b

    def apply(k: int, a: float, bb: float, cc: float, d: float, tx: float = 0.0, ty: float = 0.0):
        t = torch.tensor([[a, bb, tx], [cc, d, ty], [0.0, 0.0, 1.0]], dtype=torch.float64)
        mats[k], moved[k] = mats[k] @ t, True

    u = torch.rand(b)  # x-flip: drawn with p, then a fair coin, in one uniform
    for k in range(b):
        if u[k] < p / 2:
            apply(k, -1.0, 0.0, 0.0, 1.0)
    u, quarter = torch.rand(b), torch.randint(4, (b,))  # rotate90
    for k in range(b):
        if u[k] < p:
            angle = int(quarter[k]) * math.pi / 2
            cos, sin = round(math.cos(angle)), round(math.sin(angle))
            apply(k, cos, -sin, sin, cos)
    u, shift = torch.rand(b), (torch.rand(2, b) * 2 - 1) * max_translate  # integer translation
    for k in range(b):
        if u[k] < p:
            apply(
                k,
                1.0,
                0.0,
                0.0,
                1.0,
                round(float(shift[0, k]) * w) * 2 / w,
                round(float(shift[1, k]) * h) * 2 / h,
            )
    u, s = torch.rand(b), torch.exp(torch.randn(b) * 0.2 * math.log(2))  # isotropic scale
    for k in range(b):
        if u[k] < p:
            apply(k, float(s[k]), 0.0, 0.0, float(s[k]))

    def rotation():  # each time with p_rot = 1 - sqrt(1 - p)
        u, theta = torch.rand(b), (torch.rand(b) * 2 - 1) * math.pi
        for k in range(b):
            if u[k] < 1 - math.sqrt(1 - p):
                cos, sin = math.cos(float(theta[k])), math.sin(float(theta[k]))
                apply(k, cos, -sin, sin, cos)

    rotation()  # before the anisotropic scaling
    u, s = torch.rand(b), torch.exp(torch.randn(b) * 0.2 * math.log(2))  # anisotropic scale
    for k in range(b):
        if u[k] < p:
            apply(k, float(s[k]), 0.0, 0.0, 1 / float(s[k]))
    rotation()  # and after it
    out = x.clone()
    for k in range(b):
        if moved[k]:
            grid = F.affine_grid(mats[k][:2].float().unsqueeze(0), [1, c, h, w], align_corners=False)
            out[k] = F.grid_sample(x[k : k + 1], grid, padding_mode="reflection", align_corners=False)[0]
    u, v = torch.rand(b), torch.randn(b) * 0.2  # brightness
    for k in range(b):
        if u[k] < p:
            out[k] = out[k] + v[k]
    u, v = torch.rand(b), torch.exp(torch.randn(b) * 0.5 * math.log(2))  # contrast
    for k in range(b):
        if u[k] < p:
            out[k] = out[k] * v[k]
    if c == 3:
        u, v = torch.rand(b), torch.exp(torch.randn(b) * math.log(2))  # saturation, about the grey axis
        for k in range(b):
            if u[k] < p:
                grey = out[k].mean(0, keepdim=True)
                out[k] = grey + (out[k] - grey) * v[k]
    return out


@pytest.mark.parametrize("p, channels", [(0.5, 3), (0.3, 1), (1.0, 3)])
def test_ada_equals_a_per_image_reference_on_the_same_random_draws(p, channels):
    """Every op at once on a non-square image: found by mutation testing, the per-op tests could not see the
    value an op uses for images it misses (masked out unless another geometric op hits the same image), nor
    the y-translation."""
    x = torch.rand(64, channels, 12, 20, generator=torch.Generator().manual_seed(0)) * 2 - 1
    torch.manual_seed(1)
    got = AdaptiveAugment(p=p, max_translate=0.2)(x)
    torch.manual_seed(1)
    want = ada_reference(x, p, max_translate=0.2)
    assert torch.allclose(got, want, atol=1e-4), (got - want).abs().max()


@pytest.mark.parametrize("augment", [AdaptiveAugment(p=0.5), DiffAugment(), ForwardDiffusion(p=0.5)])
def test_every_augmentation_draws_its_random_numbers_on_the_input_device(augment):
    """The meta device stands in for a GPU on a CPU-only machine: a tensor made on the CPU by mistake (a
    dropped ``device=``) cannot be combined with the input and raises."""
    augment = augment.to("meta")
    out = augment(torch.zeros(8, 3, 16, 16, device="meta"))
    for tensor in out if isinstance(out, tuple) else (out,):
        assert tensor.device.type == "meta"


def test_augmentation_defaults_are_the_papers():
    ada = AdaptiveAugment()
    assert (ada.p.item(), ada.target, ada.kimg, ada.interval) == (0.0, 0.6, 20.0, 4)
    assert ada.rt.item() == 0.0 and ada.max_translate == 0.125 and ada.ops == AdaptiveAugment.OPS
    assert set(ada.stats()) == {"ada_p"}
    diffusion = ForwardDiffusion()  # the authors' train.py: --t_min 10 --t_max 1000 --noise_sd 0.05
    assert (diffusion.t_max, diffusion.t_min, diffusion.sigma) == (1000, 10, 0.05)
    assert diffusion.sampling == "priority"
    assert (diffusion.p.item(), diffusion.target, diffusion.kimg, diffusion.interval) == (0.0, 0.6, 20.0, 4)
    assert ForwardDiffusion(p=0.25).p.item() == 0.25
    assert "alpha_bar" not in diffusion.state_dict()  # rebuilt from p, not saved in checkpoints


def test_diffusion_schedule_is_computed_in_float64():
    """a_t = prod (1 - beta_s) over up to 500 factors: computed in float32 the product drifts by ~2e-7;
    computed in float64 and stored in float32 it is off by at most float32's rounding (3e-8)."""
    betas = [1e-4 + (2e-2 - 1e-4) * i / 499 for i in range(500)]
    want = [1.0]
    for beta in betas:
        want.append(want[-1] * (1 - beta))
    got = linear_alpha_bar(500).double()
    assert (got - torch.tensor(want, dtype=torch.float64)).abs().max() < 6e-8


def test_diffusion_t_min_bounds_are_named():
    assert ForwardDiffusion(t_max=10, t_min=10).T.item() == 10.0  # t_min = t_max is allowed (a fixed T)
    with pytest.raises(ToolkitError, match=r"^need 1 <= t_min <= t_max, got 11, 10$"):
        ForwardDiffusion(t_max=10, t_min=11)
    with pytest.raises(ToolkitError, match=r"^need 1 <= t_min <= t_max, got 0, 10$"):
        ForwardDiffusion(t_max=10, t_min=0)  # t = 0 is the table's other half, not a T
    with pytest.raises(ToolkitError, match=r"^unknown t sampling 'linear'; choose one of priority, uniform$"):
        ForwardDiffusion(sampling="linear")


def test_diffuse_is_the_closed_form_on_the_same_noise():
    d = ForwardDiffusion(t_max=100, t_min=100, sigma=0.3)
    x = torch.rand(4, 3, 5, 5) * 2 - 1
    t = torch.tensor([0, 10, 50, 100])
    torch.manual_seed(2)
    got = d.diffuse(x, t)
    torch.manual_seed(2)
    noise = torch.randn_like(x)
    a = d.alpha_bar[t].view(-1, 1, 1, 1)
    assert torch.allclose(got, a.sqrt() * x + (1 - a).sqrt() * 0.3 * noise, atol=1e-6)


class _Config:
    """The fields of RunConfig that build_augment reads, each set away from its default."""

    augment = "ada"
    ada_target = 0.7
    ada_kimg = 3.0
    ada_interval = 7
    diffusion_t_min = 20
    diffusion_t_max = 120
    diffusion_sigma = 0.2


def test_build_augment_forwards_every_setting():
    config = _Config()
    ada = build_augment(config)
    assert isinstance(ada, AdaptiveAugment) and (ada.target, ada.kimg, ada.interval) == (0.7, 3.0, 7)
    config.augment = "diffusion"
    diffusion = build_augment(config)
    assert isinstance(diffusion, ForwardDiffusion) and diffusion.t_min == 20 and diffusion.num_timesteps == 20
    assert (diffusion.t_max, diffusion.sigma, diffusion.target, diffusion.kimg, diffusion.interval) == (
        120,
        0.2,
        0.7,
        3.0,
        7,
    )
    config.augment = "diffaugment"
    assert isinstance(build_augment(config), DiffAugment)
    config.augment = "none"
    assert build_augment(config) is None


def test_build_augment_names_what_is_wrong():
    config = _Config()
    with pytest.raises(ToolkitError, match=r"^--augment ada works on images; these data are pairs$"):
        build_augment(config, kind="pairs")
    config.augment = "blur"
    with pytest.raises(
        ToolkitError, match=r"unknown --augment 'blur'; choose one of none, ada, diffaugment, diff"
    ):
        build_augment(config)
    with pytest.raises(ToolkitError, match=r"choose from xflip, rotate90, translate"):
        AdaptiveAugment(ops=("blur",))
