"""Faithfulness of toolkit/models/stylegan.py to StyleGAN2 (Karras et al. 2020) and stylegan2-ada-pytorch:
modulation/demodulation (eq. 1-3), one w for every layer, truncation, style mixing, noise inputs and the
mapping network's learning-rate multiplier, each against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from toolkit.errors import ToolkitError
from toolkit.models.stylegan import (
    EqualizedLinear,
    StyleGANDiscriminator,
    StyleGANGenerator,
    SynthesisLayer,
    ToRGBLayer,
    adain,
    mix_styles,
    modulate,
    modulated_conv2d,
)


def small_generator(resolution: int = 16, **kw) -> StyleGANGenerator:
    torch.manual_seed(0)
    return StyleGANGenerator(
        z_dim=16, w_dim=16, channels=1, resolution=resolution, width=8, mapping_layers=2, **kw
    )


def test_demodulated_weights_have_unit_norm_per_output_channel():
    torch.manual_seed(0)
    weight, styles = torch.randn(6, 5, 3, 3), torch.rand(4, 5) * 3 + 0.1
    w = modulate(weight, styles)
    assert w.shape == (4, 6, 5, 3, 3)
    assert torch.allclose(w.square().sum(dim=(2, 3, 4)), torch.ones(4, 6), atol=1e-5)
    # without demodulation: eq. 1 only, s_i * w_ijk, by hand
    plain = modulate(weight, styles, demodulate=False)
    assert torch.allclose(plain[2, 3, 1], styles[2, 1] * weight[3, 1])


def test_grouped_modulated_conv_equals_one_conv_per_sample():
    torch.manual_seed(1)
    x, weight, styles = torch.randn(3, 4, 7, 7), torch.randn(5, 4, 3, 3), torch.randn(3, 4)
    out = modulated_conv2d(x, weight, styles, padding=1)
    for b in range(3):
        w = weight * styles[b][None, :, None, None]
        w = w / torch.sqrt(w.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8)
        assert torch.allclose(out[b : b + 1], F.conv2d(x[b : b + 1], w, padding=1), atol=1e-5)


@pytest.mark.parametrize("demodulate", [True, False])
def test_the_three_step_modulated_conv_equals_the_grouped_one(demodulate):
    torch.manual_seed(5)
    x, weight, styles = torch.randn(3, 4, 7, 7), torch.randn(5, 4, 3, 3), torch.randn(3, 4) * 2
    grouped = modulated_conv2d(x, weight, styles, demodulate, padding=1)
    assert torch.allclose(
        modulated_conv2d(x, weight, styles, demodulate, 1, grouped=False), grouped, atol=1e-5
    )


def test_demodulation_gives_unit_output_variance_for_unit_variance_input():
    torch.manual_seed(2)
    x = torch.randn(8, 32, 40, 40)  # independent, unit variance
    weight, styles = torch.randn(16, 32, 3, 3), torch.rand(8, 32) * 10
    var = modulated_conv2d(x, weight, styles).var(dim=(0, 2, 3))
    assert torch.allclose(var, torch.ones(16), atol=0.06), var
    # modulated only, the variance is sigma_j^2 = sum_{i,k} w'^2 (eq. 2), far from 1 here
    plain = modulated_conv2d(x, weight, styles, demodulate=False).var(dim=(2, 3)).mean(0)
    sigma2 = modulate(weight, styles, demodulate=False).square().sum(dim=(2, 3, 4)).mean(0)
    assert torch.allclose(plain / sigma2, torch.ones(16), atol=0.06)
    assert sigma2.min() > 100


def test_adain_sets_each_channels_mean_and_std_to_the_style():
    torch.manual_seed(3)
    x = torch.randn(2, 3, 8, 8) * 4 + 2
    scale = torch.tensor([[1.0, 2.0, 0.5], [3.0, 1.0, 1.0]])
    bias = torch.tensor([[0.0, -1.0, 5.0], [1.0, 2.0, 3.0]])
    y = adain(x, scale, bias)
    assert torch.allclose(y.mean(dim=(2, 3)), bias, atol=1e-5)
    assert torch.allclose(y.std(dim=(2, 3), unbiased=False), scale, atol=1e-4)


def test_modulated_conv_refuses_styles_of_the_wrong_shape():
    with pytest.raises(ToolkitError, match=r"styles must be \(batch, in_channels\) = \(2, 4\)"):
        modulated_conv2d(torch.randn(2, 4, 5, 5), torch.randn(3, 4, 3, 3), torch.randn(2, 5))


def affine_inputs(G: StyleGANGenerator) -> list[tuple[str, list]]:
    """Forward hooks recording the w each style (affine) layer receives, in the synthesis order."""
    seen = []
    for block in G.synthesis.blocks:
        for layer in [*block.convs, block.torgb]:
            record: list = []
            layer.affine.register_forward_hook(lambda m, args, out, record=record: record.append(args[0]))
            seen.append(("torgb" if isinstance(layer, ToRGBLayer) else "conv", record))
    return seen


def test_without_mixing_every_layer_gets_the_same_w():
    G = small_generator().eval()
    seen = affine_inputs(G)
    z = torch.randn(3, 16)
    G(z)
    w = G.mapping(z)
    assert G.num_ws == 6  # 16x16: convs 1 + 2 + 2, plus the last toRGB
    assert len(seen) == 8  # 5 convs + 3 toRGBs
    for _, record in seen:
        assert torch.equal(record[0], w)


def test_each_layer_reads_its_own_w_and_torgb_reads_the_next_convs():
    G = small_generator().eval()
    seen = affine_inputs(G)
    ws = torch.randn(2, G.num_ws, 16)
    G.synthesis(ws)
    # the reference's indexing: conv l uses ws[:, l]; a block's toRGB the index after its convs
    # 4x4: conv 0, toRGB 1; 8x8: convs 1 2, toRGB 3; 16x16: convs 3 4, toRGB 5
    expected = [0, 1, 1, 2, 3, 3, 4, 5]
    for (kind, record), index in zip(seen, expected):
        assert torch.equal(record[0], ws[:, index]), (kind, index)


def test_style_mixing_uses_the_first_w_before_the_crossover_and_the_second_after():
    G = small_generator().eval()
    seen = affine_inputs(G)
    z1, z2 = torch.randn(2, 16), torch.randn(2, 16)
    w1, w2 = G.mapping(z1), G.mapping(z2)
    crossover = 3
    G(z1, z2=z2, crossover=crossover, noise_mode="const")
    expected = [0, 1, 1, 2, 3, 3, 4, 5]
    for (_, record), index in zip(seen, expected):
        assert torch.equal(record[0], w1 if index < crossover else w2), index
    mixed = mix_styles(G.styles(z1), G.styles(z2), crossover)
    assert torch.equal(mixed[:, :3], w1.unsqueeze(1).expand(2, 3, 16))
    assert torch.equal(mixed[:, 3:], w2.unsqueeze(1).expand(2, 3, 16))
    with pytest.raises(ToolkitError, match=r"crossover layer must be in 0\.\.6, got 7"):
        mix_styles(G.styles(z1), G.styles(z2), 7)


def test_truncation_psi_zero_gives_the_average_image_for_every_z():
    G = small_generator().eval()
    with torch.no_grad():
        G.mapping.w_avg.copy_(torch.randn(16))
        images = G(torch.randn(5, 16), psi=0.0, noise_mode="const")
        average = G.synthesis(G.mapping.w_avg.expand(1, G.num_ws, 16), noise_mode="const")
        assert torch.allclose(images, average.expand(5, -1, -1, -1), atol=1e-6)
        # psi = 0.5: halfway between w_avg and w, by hand
        z = torch.randn(2, 16)
        w = G.mapping(z)
        assert torch.allclose(G.styles(z, 0.5)[:, 0], G.mapping.w_avg + 0.5 * (w - G.mapping.w_avg))
        assert not torch.allclose(G(z, psi=1.0, noise_mode="const")[0], average[0])


def test_w_avg_follows_the_batch_mean_of_w_in_training_only():
    G = small_generator()
    z = torch.randn(8, 16)
    w = G.mapping(z)  # training mode: w_avg <- lerp(w_avg = 0, mean w, 1 - 0.995)
    assert torch.allclose(G.mapping.w_avg, 0.005 * w.mean(0), atol=1e-7)
    before = G.mapping.w_avg.clone()
    G.eval()(z)
    assert torch.equal(G.mapping.w_avg, before)


def test_mapping_layers_learn_at_one_hundredth_of_the_base_rate():
    # Adam's first step moves every raw weight by lr (|g| >> eps); the used weight moves by scale * lr
    lr, fan_in = 1e-3, 64
    moves = {}
    for m in (1.0, 0.01):
        torch.manual_seed(4)
        layer = EqualizedLinear(fan_in, 32, lr_multiplier=m).double()  # float32 rounds raw weights ~1e2
        used = (layer.weight * layer.scale).detach().clone()
        assert abs(used.std().item() * math.sqrt(fan_in) - 1) < 0.05  # He's N(0, 1/fan_in) at init, for any m
        opt = torch.optim.Adam(layer.parameters(), lr=lr)
        layer(torch.randn(16, fan_in, dtype=torch.float64)).square().sum().backward()
        opt.step()
        moves[m] = ((layer.weight * layer.scale).detach() - used).abs()
        assert torch.allclose(moves[m], torch.full_like(used, lr * m / math.sqrt(fan_in)), rtol=1e-6)
    # the generator's mapping network uses 0.01 by default; the synthesis layers' affines 1
    G = small_generator()
    assert all(fc.lr_multiplier == 0.01 for fc in G.mapping.fcs)
    assert G.synthesis.blocks[0].convs[0].affine.lr_multiplier == 1.0


def noise_maps(G: StyleGANGenerator, batch: int, seed: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    layers = [conv for block in G.synthesis.blocks for conv in block.convs]
    return [torch.randn(batch, 1, c.resolution, c.resolution, generator=g) for c in layers]


def test_resampling_one_layers_noise_changes_only_that_layer_and_after():
    G = small_generator().eval()
    layers = [conv for block in G.synthesis.blocks for conv in block.convs]
    outputs: list[torch.Tensor] = []
    for conv in layers:
        conv.register_forward_hook(lambda m, a, out: outputs.append(out))
    with torch.no_grad():
        for conv in layers:
            conv.noise_strength.fill_(0.5)
        ws = G.styles(torch.randn(2, 16))
        noises = noise_maps(G, 2, 0)
        first = G.synthesis(ws, noises=noises)
        before, outputs[:] = list(outputs), []
        k = 3
        changed = list(noises)
        changed[k] = noise_maps(G, 2, 1)[k]
        second = G.synthesis(ws, noises=changed)
        for i in range(len(layers)):
            same = torch.equal(outputs[i], before[i])
            assert same == (i < k), i  # before layer k: untouched; from layer k on: changed
        assert not torch.equal(first, second)
        # a layer whose noise strength is zero ignores its noise
        layers[k].noise_strength.zero_()
        assert torch.equal(G.synthesis(ws, noises=noises), G.synthesis(ws, noises=changed))
        # noise enters per channel: one channel's strength scales that channel's noise only
        layers[k].noise_strength[1] = 2.0
        outputs[:] = []
        G.synthesis(ws, noises=noises)
        a = outputs[k]
        outputs[:] = []
        G.synthesis(ws, noises=changed)
        differs = (outputs[k] != a).flatten(2).any(-1).any(0)
        assert differs.tolist() == [c == 1 for c in range(layers[k].weight.shape[0])]


def test_noise_modes():
    layer = SynthesisLayer(4, 4, 8, resolution=8)
    with torch.no_grad():
        layer.noise_strength.fill_(1.0)
    x, w = torch.randn(2, 4, 8, 8), torch.randn(2, 8)
    assert torch.equal(layer(x, w, "const"), layer(x, w, "const"))
    assert not torch.equal(layer(x, w, "random"), layer(x, w, "random"))
    layer.noise_strength.data.zero_()
    assert torch.equal(layer(x, w, "random"), layer(x, w, "none"))


@pytest.mark.parametrize("resolution", [32, 64])
def test_generator_and_discriminator_shapes_at_32_and_64_pixels(resolution):
    torch.manual_seed(0)
    G = StyleGANGenerator(16, 16, 3, resolution, 8, 2)
    D = StyleGANDiscriminator(3, resolution, 8)
    x = G(torch.randn(4, 16))
    assert x.shape == (4, 3, resolution, resolution)
    assert D(x).shape == (4,)
    assert G.num_ws == 2 * int(math.log2(resolution)) - 2  # convs 1 + 2 per doubling, + the last toRGB
    with pytest.raises(ToolkitError, match=rf"takes images \(B, 3, {resolution}, {resolution}\), got \(4, 1"):
        D(torch.randn(4, 1, resolution, resolution))
    with pytest.raises(ToolkitError, match=r"takes z of shape \(batch, 16\)"):
        G(torch.randn(4, 15))
