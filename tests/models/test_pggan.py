"""PGGAN layers and networks (toolkit/models/pggan.py): behaviour the paper and tkarras's code fix."""

import math

import pytest
import torch
import torch.nn.functional as F

from toolkit.errors import ToolkitError
from toolkit.models.pggan import (
    EqualizedConv2d,
    EqualizedLinear,
    MinibatchStdDev,
    PGGANDiscriminator,
    PGGANGenerator,
    PixelNorm,
    fade_in,
    grown_parameters,
    pggan_resolutions,
    stage_width,
)

Z_DIM, CHANNELS, MAX_RES = 8, 3, 32


@pytest.fixture
def nets():
    torch.manual_seed(0)
    G = PGGANGenerator(z_dim=Z_DIM, channels=CHANNELS, max_resolution=MAX_RES, width=8)
    D = PGGANDiscriminator(channels=CHANNELS, max_resolution=MAX_RES, width=8)
    return G, D


# --- equalized learning rate ------------------------------------------------------------------


def test_equalized_layers_store_unit_normal_weights_and_scale_at_run_time():
    torch.manual_seed(0)
    conv = EqualizedConv2d(512, 64, 3, padding=1)
    assert abs(conv.weight.std().item() - 1) < 0.1  # N(0, 1), not He-scaled
    assert conv.bias.abs().sum() == 0
    assert conv.scale == pytest.approx(math.sqrt(2 / (512 * 3 * 3)))
    assert conv.scale == pytest.approx(0.02083, abs=1e-5)
    x = torch.randn(2, 512, 5, 5)
    torch.testing.assert_close(conv(x), F.conv2d(x, conv.weight * conv.scale, conv.bias, padding=1))
    lin = EqualizedLinear(200, 10, gain=1.0)
    assert lin.scale == pytest.approx(1 / math.sqrt(200))
    assert abs(lin.weight.std().item() - 1) < 0.1
    assert "scale" not in "".join(conv.state_dict())  # a constant, not a buffer or parameter


@pytest.mark.parametrize("fan_in", [64, 512])
def test_equalized_layers_keep_output_variance_about_two_for_any_fan_in(fan_in):
    torch.manual_seed(1)
    conv = EqualizedConv2d(fan_in, 64, 3)  # no padding: every output sees 9 * fan_in inputs
    with torch.no_grad():
        var = conv(torch.randn(8, fan_in, 8, 8)).var().item()
    assert 1.6 < var < 2.4  # gain^2 = 2 (He), whatever the fan-in
    lin = EqualizedLinear(fan_in, 256)
    with torch.no_grad():
        var = lin(torch.randn(256, fan_in)).var().item()
    assert 1.6 < var < 2.4


def _relative_step(layer, effective_weight, in_ch):
    """|delta w_hat| / |w_hat| after one Adam step on the same kind of loss."""
    x = torch.randn(16, in_ch, 6, 6)
    before = effective_weight(layer).detach().clone()
    opt = torch.optim.Adam(layer.parameters(), lr=1e-3)
    out = layer(x)
    loss = (out - torch.randn_like(out)).pow(2).mean()
    loss.backward()
    opt.step()
    after = effective_weight(layer).detach()
    return ((after - before).norm() / before.norm()).item()


def test_equalized_lr_makes_the_relative_update_independent_of_fan_in():
    torch.manual_seed(2)
    eq = [_relative_step(EqualizedConv2d(c, 32, 3), lambda m: m.weight * m.scale, c) for c in (64, 512)]
    plain = [_relative_step(torch.nn.Conv2d(c, 32, 3), lambda m: m.weight, c) for c in (64, 512)]
    # Adam moves every raw weight by about lr: with unit-scale weights that is the same relative change
    # for every layer; with He-like init (|w| ~ 1/sqrt(fan_in)) wide layers change sqrt(8) times faster.
    assert 1 / 1.5 < eq[1] / eq[0] < 1.5
    assert plain[1] / plain[0] > 2.0


# --- pixel norm and minibatch stddev -------------------------------------------------------------


def test_pixel_norm_gives_unit_mean_square_over_channels():
    torch.manual_seed(3)
    out = PixelNorm()(torch.randn(4, 16, 5, 5) * 3 + 1)
    torch.testing.assert_close(out.pow(2).mean(dim=1), torch.ones(4, 5, 5), atol=1e-5, rtol=0)


def test_mbstd_identical_samples_and_a_batch_of_one_give_1e_4():
    torch.manual_seed(4)
    mbstd = MinibatchStdDev(group_size=4)
    out = mbstd(torch.randn(1, 3, 4, 4).repeat(8, 1, 1, 1))
    assert out.shape == (8, 4, 4, 4)
    torch.testing.assert_close(out[:, -1], torch.full((8, 4, 4), 1e-4), rtol=1e-3, atol=0)
    single = mbstd(torch.randn(1, 3, 4, 4))[:, -1]
    assert torch.isfinite(single).all()
    torch.testing.assert_close(single, torch.full((1, 4, 4), 1e-4), rtol=1e-3, atol=0)


def test_mbstd_uses_the_biased_variance_and_grows_with_the_spread():
    mbstd = MinibatchStdDev(group_size=4)
    two = torch.tensor([0.0, 2.0]).view(2, 1, 1, 1)  # deviations -1, +1
    assert mbstd(two)[:, -1].flatten().tolist() == pytest.approx([1.0, 1.0])  # unbiased would be sqrt(2)
    torch.manual_seed(5)
    x = torch.randn(8, 3, 4, 4)
    base = mbstd(x)[:, -1]
    torch.testing.assert_close(mbstd(3 * x)[:, -1], 3 * base, rtol=1e-4, atol=0)
    assert (base == base[:, :1, :1]).all()  # one constant map per sample


def test_mbstd_uneven_batch_uses_the_largest_divisor_group():
    torch.manual_seed(6)
    x = torch.randn(6, 2, 3, 3)
    out = MinibatchStdDev(group_size=4)(x)  # 6 % 4 != 0: groups of 3, not a crash
    assert out.shape == (6, 3, 3, 3) and torch.isfinite(out).all()
    for j in range(2):  # as tkarras: sample n is in group n mod 2
        members = x[j::2]
        std = torch.sqrt(members.var(dim=0, unbiased=False) + 1e-8).mean()
        torch.testing.assert_close(out[j::2, -1], std.expand(3, 3, 3))
    odd = MinibatchStdDev(group_size=4)(torch.randn(5, 2, 3, 3))  # prime batch: groups of 1
    torch.testing.assert_close(odd[:, -1], torch.full((5, 3, 3), 1e-4), rtol=1e-3, atol=0)


# --- stages, widths, shapes, errors ----------------------------------------------------------------


def test_resolutions_and_width_rule():
    assert pggan_resolutions(32) == [4, 8, 16, 32]
    assert [stage_width(r, 8) for r in (4, 8, 16, 32, 64, 128)] == [8, 8, 8, 8, 4, 2]
    assert [stage_width(r, 8, max_width=32) for r in (4, 8, 16, 32)] == [32, 32, 16, 8]
    G = PGGANGenerator(z_dim=4, channels=1, max_resolution=64, width=4)
    assert G.widths == {4: 4, 8: 4, 16: 4, 32: 4, 64: 2}
    for bad in (2, 3, 48, 0):
        with pytest.raises(ToolkitError, match="power of two"):
            PGGANGenerator(max_resolution=bad)
        with pytest.raises(ToolkitError, match="power of two"):
            PGGANDiscriminator(max_resolution=bad)


def test_shapes_at_every_resolution_and_attributes(nets):
    G, D = nets
    assert G.resolutions == D.resolutions == [4, 8, 16, 32]
    assert G.max_resolution == D.max_resolution == MAX_RES and G.z_dim == Z_DIM
    assert G.channels == D.channels == CHANNELS
    z = torch.randn(4, Z_DIM)
    for r in G.resolutions:
        for alpha in (0.0, 0.5, 1.0):
            images = G(z, r, alpha)
            assert images.shape == (4, CHANNELS, r, r)
            assert D(images, alpha).shape == (4,)
    assert G(z).shape == (4, CHANNELS, MAX_RES, MAX_RES)  # default: the full resolution
    assert G(z.view(4, Z_DIM, 1, 1), 8).shape == (4, CHANNELS, 8, 8)


def test_bad_stage_requests_are_clear(nets):
    G, D = nets
    z = torch.randn(2, Z_DIM)
    with pytest.raises(ToolkitError, match="choose one of 4, 8, 16, 32"):
        G(z, 12)
    with pytest.raises(ToolkitError, match="choose one of 4, 8, 16, 32"):
        G(z, 64)
    with pytest.raises(ToolkitError, match="choose one of 4, 8, 16, 32"):
        D(torch.zeros(2, CHANNELS, 64, 64))
    with pytest.raises(ToolkitError, match="alpha"):
        G(z, 8, alpha=1.5)
    with pytest.raises(ToolkitError, match="alpha"):
        D(torch.zeros(2, CHANNELS, 8, 8), alpha=-0.1)
    with pytest.raises(ToolkitError, match="3-channel"):
        D(torch.zeros(2, 1, 8, 8))
    with pytest.raises(ToolkitError, match="square"):
        D(torch.zeros(2, CHANNELS, 8, 16))
    with pytest.raises(ToolkitError, match="z of size 8"):
        G(torch.randn(2, 5), 8)


# --- fade-in ------------------------------------------------------------------------------------


def test_fade_in_blend():
    old, new = torch.randn(3, 4), torch.randn(3, 4)
    assert torch.equal(fade_in(old, new, 0.0), old) and torch.equal(fade_in(old, new, 1.0), new)
    torch.testing.assert_close(fade_in(old, new, 0.25), 0.75 * old + 0.25 * new)


@pytest.mark.parametrize("r", [8, 16, 32])
def test_alpha_zero_is_the_old_network(nets, r):
    G, D = nets
    z = torch.randn(4, Z_DIM)
    with torch.no_grad():
        old_up = F.interpolate(G(z, r // 2, alpha=1.0), scale_factor=2, mode="nearest")
        assert torch.equal(G(z, r, alpha=0.0), old_up)
        # the blend is continuous at 0: a tiny alpha is (almost) the old image, through fade_in
        torch.testing.assert_close(G(z, r, alpha=1e-6), old_up, atol=1e-4, rtol=0)
        x = torch.randn(4, CHANNELS, r, r)
        old_score = D(F.avg_pool2d(x, 2), alpha=1.0)
        torch.testing.assert_close(D(x, alpha=0.0), old_score, atol=1e-6, rtol=1e-6)
        torch.testing.assert_close(D(x, alpha=1e-6), old_score, atol=1e-4, rtol=0)


@pytest.mark.parametrize("r", [8, 32])
def test_alpha_one_uses_the_new_path(nets, r):
    G, D = nets
    z = torch.randn(4, Z_DIM)
    x = torch.randn(4, CHANNELS, r, r)
    with torch.no_grad():
        assert not torch.allclose(G(z, r, 1.0), G(z, r, 0.0), atol=1e-4)
        assert not torch.allclose(D(x, 1.0), D(x, 0.0), atol=1e-4)
        half = fade_in(G(z, r, 0.0), G(z, r, 1.0), 0.5)  # linear in alpha
        torch.testing.assert_close(G(z, r, 0.5), half, atol=1e-5, rtol=1e-5)
        assert torch.equal(G(z, 4, 0.0), G(z, 4, 1.0))  # alpha ignored at 4x4
        x4 = torch.randn(4, CHANNELS, 4, 4)
        assert torch.equal(D(x4, 0.0), D(x4, 1.0))


# --- growing keeps the weights ----------------------------------------------------------------------


def test_growing_keeps_the_same_parameters_and_state_dict_keys(nets):
    G, D = nets
    z = torch.randn(4, Z_DIM)
    for net in (G, D):
        keys = list(net.state_dict())
        ids = [id(p) for p in net.parameters()]
        values = [t.clone() for t in net.state_dict().values()]
        with torch.no_grad():
            for r in (8, 16):  # "grow" = call at the next resolution
                D(G(z, r, 0.5), 0.5)
        assert list(net.state_dict()) == keys and [id(p) for p in net.parameters()] == ids
        assert all(torch.equal(a, b) for a, b in zip(values, net.state_dict().values()))
    fresh = PGGANGenerator(z_dim=Z_DIM, channels=CHANNELS, max_resolution=MAX_RES, width=8)
    fresh.load_state_dict(G.state_dict(), strict=True)  # one checkpoint format at every stage
    assert torch.equal(fresh(z, 16, 0.3), G(z, 16, 0.3))
    # grown_parameters splits the parameters by the stage that first uses them
    for net in (G, D):
        per_stage = [{id(p) for p in grown_parameters(net, r)} for r in net.resolutions]
        assert sum(map(len, per_stage)) == len(set().union(*per_stage)) == len(list(net.parameters()))
    with pytest.raises(ToolkitError, match="choose one of"):
        grown_parameters(G, 64)


def test_a_training_step_at_8x8_leaves_the_larger_blocks_untouched(nets):
    G, D = nets
    later = {id(p) for net in (G, D) for r in (16, 32) for p in grown_parameters(net, r)}
    used = {id(p) for net in (G, D) for r in (4, 8) for p in grown_parameters(net, r)}
    snapshot = {id(p): p.detach().clone() for net in (G, D) for p in net.parameters()}
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.0, 0.99))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.0, 0.99))
    z, real = torch.randn(4, Z_DIM), torch.randn(4, CHANNELS, 8, 8)
    d_loss = D(G(z, 8, 0.5).detach(), 0.5).mean() - D(real, 0.5).mean()  # WGAN critic step
    d_loss.backward()
    opt_d.step()
    g_loss = -D(G(z, 8, 0.5), 0.5).mean()
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    for net in (G, D):
        for p in net.parameters():
            if id(p) in later:
                assert p.grad is None and torch.equal(p, snapshot[id(p)])
            else:
                assert id(p) in used and p.grad is not None


def test_gradients_reach_z_the_input_and_both_fade_paths(nets):
    G, D = nets
    z = torch.randn(4, Z_DIM, requires_grad=True)
    G(z, 16, alpha=0.5).pow(2).mean().backward()
    assert z.grad is not None and z.grad.abs().sum() > 0
    for layer in (G.to_rgb["8"], G.to_rgb["16"], G.blocks["16"].conv1, G.blocks["4"].dense):
        assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
    x = torch.randn(4, CHANNELS, 16, 16, requires_grad=True)  # D's input gradient (for a penalty)
    D(x, alpha=0.5).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for layer in (D.from_rgb["8"][0], D.from_rgb["16"][0], D.blocks["16"].conv1, D.blocks["4"].out):
        assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
