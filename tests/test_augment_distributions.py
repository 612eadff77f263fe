"""ADA's per-op parameter distributions (Karras et al. 2020, appendix B.1; stylegan2-ada's augment.py), each
op alone at p = 1 on images whose output reveals the drawn parameter, over thousands of draws:

* brightness: an offset ~ N(0, 0.2);  contrast: a factor ~ lognormal(0, (0.5 ln 2)^2);
  saturation: a factor ~ lognormal(0, (ln 2)^2) around the grey axis;
* scale: isotropic, lognormal(0, (0.2 ln 2)^2);  aniso: s along x and 1/s along y, s as for scale;
* rotate: an angle ~ U(-pi, pi), drawn twice (before and after aniso), each with p_rot = 1 - sqrt(1 - p),
  so a share p of the images is rotated;
* translate: whole pixels, the rounding of U(-0.125, 0.125) x the size, each way;
* and each op applies to a share p of the images.

Sampling errors: with n = 4,000 a standard deviation is within ~2.2% of its value 95% of the time; the
bounds below are 6-7%, and seeds are fixed."""

import math

import pytest
import torch

from toolkit.augment import AdaptiveAugment

N, SIZE = 4000, 16


def ada(ops, p=1.0):
    return AdaptiveAugment(p=p, ops=ops)


def ramp(axis: str) -> torch.Tensor:
    """(N, 1, S, S): the pixel centres' normalised coordinate along x or y (in (-1, 1))."""
    c = (torch.arange(SIZE) + 0.5) / SIZE * 2 - 1
    img = c.view(1, SIZE).expand(SIZE, SIZE) if axis == "x" else c.view(SIZE, 1).expand(SIZE, SIZE)
    return img.reshape(1, 1, SIZE, SIZE).repeat(N, 1, 1, 1).clone()


def slope_along(out: torch.Tensor, axis: str) -> torch.Tensor:
    """Per image, the least-squares slope of the central 4x4 pixels against the coordinate along ``axis``
    (for a ramp warped by a linear map, the map's entry on that axis; central pixels never read outside)."""
    c = (torch.arange(SIZE) + 0.5) / SIZE * 2 - 1
    mid = slice(SIZE // 2 - 2, SIZE // 2 + 2)
    u = (c.view(1, SIZE).expand(SIZE, SIZE) if axis == "x" else c.view(SIZE, 1).expand(SIZE, SIZE))[mid, mid]
    v = out[:, 0, mid, mid]
    uu = u - u.mean()
    return ((v - v.mean((1, 2), keepdim=True)) * uu).sum((1, 2)) / (uu * uu).sum()


def near(value: float, expected: float, rel: float = 0.07) -> bool:
    return abs(value - expected) <= rel * abs(expected)


def test_brightness_adds_a_normal_offset_of_std_0_2():
    torch.manual_seed(0)
    out = ada(("brightness",))(torch.zeros(N, 1, SIZE, SIZE))
    offset = out[:, 0, 0, 0]
    assert torch.equal(out, offset.view(N, 1, 1, 1).expand_as(out))  # one offset per image
    assert abs(offset.mean()) < 0.02 and near(offset.std().item(), 0.2)


def test_contrast_multiplies_by_a_lognormal_of_log_std_half_ln2():
    torch.manual_seed(1)
    factor = ada(("contrast",))(torch.full((N, 1, SIZE, SIZE), 0.5))[:, 0, 0, 0] / 0.5
    assert abs(factor.log().mean()) < 0.03 and near(factor.log().std().item(), 0.5 * math.log(2))


def test_saturation_scales_the_distance_from_grey_by_a_lognormal_of_log_std_ln2():
    torch.manual_seed(2)
    x = torch.tensor([0.3, -0.3, 0.0]).view(1, 3, 1, 1).repeat(N, 1, SIZE, SIZE)  # grey mean 0
    out = ada(("saturation",))(x)
    factor = out[:, 0, 0, 0] / 0.3
    assert torch.allclose(out.mean(1), torch.zeros(N, SIZE, SIZE), atol=1e-6)  # the grey level is kept
    assert abs(factor.log().mean()) < 0.05 and near(factor.log().std().item(), math.log(2))
    grey = torch.zeros(N, 1, SIZE, SIZE) + 0.3
    assert torch.equal(ada(("saturation",))(grey), grey)  # no colour to saturate in a grey image


def test_scale_is_isotropic_with_log_std_0_2_ln2():
    torch.manual_seed(3)
    aug = ada(("scale",))
    torch.manual_seed(3)
    sx = slope_along(aug(ramp("x")), "x")
    torch.manual_seed(3)
    sy = slope_along(aug(ramp("y")), "y")  # the same draws: the same factor on both axes
    assert torch.allclose(sx, sy, atol=1e-4)
    assert abs(sx.log().mean()) < 0.01 and near(sx.log().std().item(), 0.2 * math.log(2))


def test_aniso_stretches_x_by_s_and_y_by_one_over_s():
    aug = ada(("aniso",))
    torch.manual_seed(4)
    sx = slope_along(aug(ramp("x")), "x")
    torch.manual_seed(4)
    sy = slope_along(aug(ramp("y")), "y")
    assert torch.allclose(sx * sy, torch.ones(N), atol=1e-3)
    assert near(sx.log().std().item(), 0.2 * math.log(2))


def test_rotation_angle_is_uniform_over_a_full_turn():
    aug = ada(("rotate",))
    torch.manual_seed(5)
    cos = slope_along(aug(ramp("x")), "x")  # out(u, v) = cos(t) u - sin(t) v for the x ramp
    torch.manual_seed(5)
    sin = -slope_along(aug(ramp("x")), "y")
    theta = torch.atan2(sin, cos)
    assert torch.allclose(cos**2 + sin**2, torch.ones(N), atol=1e-3)  # a rotation, no scaling
    # U(-pi, pi): mean 0, mean |theta| = pi / 2, and each quarter of the circle holds a quarter of the draws
    assert abs(theta.mean()) < 0.1 and near(theta.abs().mean().item(), math.pi / 2, 0.05)
    quarters = torch.histc(theta, bins=4, min=-math.pi, max=math.pi) / N
    assert torch.all((quarters - 0.25).abs() < 0.03)


def test_translation_is_whole_pixels_up_to_an_eighth_of_the_size():
    torch.manual_seed(6)
    x = ramp("x")
    out = ada(("translate",))(x)
    shift = (out - x)[:, 0, SIZE // 2, SIZE // 2] / (2 / SIZE)  # in pixels, read at the centre
    assert torch.allclose(shift, shift.round(), atol=1e-4)
    pixels = shift.round().long()
    assert pixels.abs().max() == SIZE // 8
    # round(U(-2, 2)) at 16 px: -2 and 2 take 1/8 each, -1, 0 and 1 a quarter each (as stylegan2-ada rounds)
    counts = torch.bincount(pixels + SIZE // 8, minlength=5).float() / N
    assert torch.allclose(counts, torch.tensor([1 / 8, 1 / 4, 1 / 4, 1 / 4, 1 / 8]), atol=0.025)


@pytest.mark.parametrize(
    "op, share",
    [
        ("brightness", lambda p: p),
        ("contrast", lambda p: p),
        ("scale", lambda p: p),
        ("aniso", lambda p: p),
        ("translate", lambda p: p * 3 / 4),  # an x ramp changes when x moves: not a 0-pixel shift (1/4)
        ("rotate", lambda p: p),  # two draws of p_rot = 1 - sqrt(1 - p): 1 - (1 - p_rot)^2 = p
    ],
)
def test_each_op_applies_to_a_share_p_of_the_images(op, share):
    torch.manual_seed(7)
    x = ramp("x") * 0.5 + 0.25  # off 0, so brightness and contrast visibly change it
    p = 0.3
    changed = (ada((op,), p)(x) - x).abs().amax((1, 2, 3)) > 1e-6
    assert abs(changed.float().mean().item() - share(p)) < 0.03
