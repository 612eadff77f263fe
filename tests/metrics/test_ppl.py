"""Perceptual path length (toolkit.metrics.ppl) against hand computations."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from toolkit.errors import ToolkitError
from toolkit.metrics.ppl import path_lengths, perceptual_path_length, slerp, trimmed_mean
from toolkit.models.stylegan import StyleGANGenerator


class IdentityGenerator(nn.Module):
    """f = identity, g(ws) = ws[:, 0]: an "image" is w itself, so path lengths are geometry only."""

    def __init__(self, z_dim: int = 6):
        super().__init__()
        self.z_dim, self.num_ws = z_dim, 3
        self.mapping = lambda z: z.double()  # float64 from here on: the check is not float32 rounding
        self.synthesis = nn.Module()
        self.synthesis.blocks = []  # no noise maps
        self.synthesis.forward = lambda ws, noise_mode, noises: ws[:, 0]
        self.anchor = nn.Parameter(torch.zeros(1))  # a parameter, for the device


def draws(n: int, z_dim: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The pairs path_lengths draws for this seed (one batch: z0, z1, then t)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, z_dim, generator=g), torch.randn(n, z_dim, generator=g)


def test_w_lengths_are_squared_distances_for_an_identity_generator():
    # lerp in W: the step is eps * (w1 - w0), so l = |eps (w1 - w0)|^2 / eps^2 = |w1 - w0|^2
    G, n = IdentityGenerator(), 50
    z0, z1 = draws(n, G.z_dim, seed=3)
    expected = (z1.double() - z0.double()).square().sum(dim=1).numpy()
    got = path_lengths(G, lambda x: x, "w", n=n, seed=3)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_z_lengths_are_squared_angles_for_an_identity_generator():
    # slerp on the unit sphere moves at speed angle(z0, z1): the chord of a step eps is 2 sin(angle eps / 2)
    G, n, eps = IdentityGenerator(), 50, 1e-2
    z0, z1 = draws(n, G.z_dim, seed=4)
    cos = (z0 * z1).sum(1) / (z0.norm(dim=1) * z1.norm(dim=1))
    angle = torch.acos(cos).double().numpy()
    expected = (2 * np.sin(angle * eps / 2)) ** 2 / eps**2
    got = path_lengths(G, lambda x: x, "z", n=n, epsilon=eps, seed=4)
    np.testing.assert_allclose(got, expected, rtol=1e-4)


def test_slerp_keeps_unit_norm_and_ends_at_the_endpoints():
    a, b = torch.tensor([[3.0, 0.0]]), torch.tensor([[0.0, 2.0]])
    torch.testing.assert_close(slerp(a, b, 0.0), torch.tensor([[1.0, 0.0]]))
    torch.testing.assert_close(slerp(a, b, 1.0), torch.tensor([[0.0, 1.0]]), atol=1e-6, rtol=0)
    half = math.sqrt(0.5)
    torch.testing.assert_close(slerp(a, b, 0.5), torch.tensor([[half, half]]))


def test_trimmed_mean_drops_the_extreme_percent_at_each_end():
    # 1..1000: the 1st percentile ('lower') is 10 and the 99th ('higher') is 991; the mean of 10..991
    assert trimmed_mean(np.arange(1, 1001)) == pytest.approx((10 + 991) / 2)
    values = np.ones(1000)
    values[-5:] = 1e6  # five outliers: above the 99th percentile, dropped
    assert trimmed_mean(values) == 1.0
    assert values.mean() > 5000


def test_both_images_of_a_pair_share_their_noise():
    # with the noise shared, a smooth G's length does not depend on epsilon; with fresh noise for the
    # second image it would grow as 1 / epsilon^2 (100x from 1e-3 to 1e-4)
    torch.manual_seed(0)
    G = StyleGANGenerator(z_dim=8, w_dim=8, resolution=8, width=4, mapping_layers=1)
    for p in G.parameters():
        if p.shape == (4,) and p.dim() == 1:
            nn.init.constant_(p, 0.5)  # noise strengths (and biases) away from 0, so noise reaches the image
    pixels = lambda x: x.flatten(1)  # noqa: E731
    for space in ("z", "w"):
        coarse = perceptual_path_length(G, pixels, space, n=40, epsilon=1e-2)
        fine = perceptual_path_length(G, pixels, space, n=40, epsilon=1e-3)
        assert 0 < fine and 0.5 < coarse / fine < 2


def test_bad_input_is_refused():
    G = IdentityGenerator()
    with pytest.raises(ToolkitError, match="z or w"):
        path_lengths(G, lambda x: x, "x")
    with pytest.raises(ToolkitError, match="epsilon"):
        path_lengths(G, lambda x: x, "w", epsilon=0)
    with pytest.raises(ToolkitError, match="non-empty"):
        trimmed_mean(np.array([]))
