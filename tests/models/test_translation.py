"""pix2pix's and CycleGAN's pieces against the reference implementation's facts
(../shared/references/new-families.md section 2): receptive fields measured by gradients, U-Net skips,
the image pool's rules, loss values by construction, the learning-rate schedule."""

import pytest
import torch
from torch import nn

from toolkit.errors import ToolkitError
from toolkit.families.translation import linear_decay_factor, side_by_side
from toolkit.image_pool import ImagePool
from toolkit.losses import cycle_consistency_loss, identity_loss, l1_loss, lsgan_d_loss, lsgan_g_loss
from toolkit.models.cyclegan import ResnetBlock, ResnetGenerator
from toolkit.models.pix2pix import (
    PatchDiscriminator,
    UNetGenerator,
    auto_patch_layers,
    patch_receptive_field,
)


def measured_receptive_field(D: nn.Module, size: int) -> int:
    """The side of the input region that one output (the centre one) depends on: the non-zero extent of
    d out[centre] / d input."""
    D.eval()
    x = torch.randn(1, 1, size, size, requires_grad=True)
    out = D(x)
    h, w = out.shape[-2:]
    out[0, 0, h // 2, w // 2].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(1)).flatten()
    return int(rows.max() - rows.min() + 1)


@pytest.mark.parametrize("n_layers, field", [(1, 16), (2, 34), (3, 70)])
def test_patchgan_receptive_field_is_measured_and_stated(n_layers, field):
    torch.manual_seed(0)
    D = PatchDiscriminator(1, width=4, n_layers=n_layers, norm="batch")  # eval mode: no spatial coupling
    assert patch_receptive_field(n_layers) == field == D.receptive_field
    assert measured_receptive_field(D, 160) == field


def test_patchgan_output_map_sizes_of_the_70x70_discriminator():
    D = PatchDiscriminator(3, width=4, n_layers=3)
    sizes = [D(torch.zeros(2, 3, s, s)).shape[-1] for s in (32, 64, 128)]
    assert sizes == [2, 6, 14]  # H/8 - 2
    assert patch_receptive_field(4) == 142
    assert [auto_patch_layers(s) for s in (32, 64, 128, 256)] == [1, 1, 2, 3]


def test_patchgan_layers_match_the_reference():
    D = PatchDiscriminator(6, width=64, n_layers=3, norm="batch")
    convs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.stride[0]) for c in convs] == [
        (6, 64, 2),
        (64, 128, 2),
        (128, 256, 2),
        (256, 512, 1),
        (512, 1, 1),
    ]
    assert all(c.kernel_size == (4, 4) and c.padding == (1, 1) for c in convs)
    assert not any(isinstance(m, nn.Sigmoid) for m in D.modules())  # logits: the loss applies the sigmoid
    norms = [m for m in D.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(norms) == 3  # none after the first conv


def test_unet_shapes_skips_and_dropout():
    G = UNetGenerator(1, 3, num_downs=5, width=8)
    assert G(torch.randn(2, 1, 32, 32)).shape == (2, 3, 32, 32)
    assert G(torch.randn(1, 1, 64, 96)).shape == (1, 3, 64, 96)  # fully convolutional: multiples of 32
    plain = UNetGenerator(1, 3, num_downs=5, width=8, skips=False)
    assert sum(p.numel() for p in plain.parameters()) < sum(p.numel() for p in G.parameters())
    # the reference's unet_256: 8 downs, dropout in the num_downs - 5 = 3 middle blocks of width 8x
    big = UNetGenerator(3, 3, num_downs=8, width=4)
    assert sum(isinstance(m, nn.Dropout) for m in big.modules()) == 3
    assert sum(isinstance(m, nn.Dropout) for m in G.modules()) == 0
    with pytest.raises(ToolkitError, match="at least 5"):
        UNetGenerator(1, 1, num_downs=4)


def test_unet_skips_carry_the_input_to_the_output():
    """With skips, an output pixel depends mostly on the input pixels around it (the outermost skip is a
    short path: conv 4x4 down, transposed conv 4x4 up); without them everything goes through the 1x1
    bottleneck and the dependence spreads over the whole image. (Batch norm in eval mode: instance norm
    would couple every pixel through its statistics.)"""
    for seed in range(3):
        for skips in (True, False):
            torch.manual_seed(seed)
            G = UNetGenerator(1, 1, num_downs=5, width=8, norm="batch", skips=skips).eval()
            x = torch.randn(1, 1, 32, 32, requires_grad=True)
            G(x)[0, 0, 16, 16].backward()
            g = x.grad[0, 0].abs()
            local = float(g[14:19, 14:19].sum() / g.sum())  # share of the 5x5 neighbourhood
            assert (local > 0.4) if skips else (local < 0.1), (seed, skips, local)


def test_resnet_generator_layout():
    G = ResnetGenerator(1, 3, width=8, n_blocks=6)
    assert G(torch.randn(2, 1, 32, 32)).shape == (2, 3, 32, 32)
    assert G(torch.randn(1, 1, 20, 28)).shape == (1, 3, 20, 28)  # multiples of 4
    assert sum(isinstance(m, ResnetBlock) for m in G.modules()) == 6
    assert sum(isinstance(m, nn.ReflectionPad2d) for m in G.modules()) == 2 + 2 * 6
    norms = [m for m in G.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert norms and all(not m.affine and not m.track_running_stats for m in norms)
    block = ResnetBlock(4, "instance")
    x = torch.randn(1, 4, 8, 8)
    assert torch.allclose(block(x) - block.block(x), x, atol=1e-5)  # x + F(x), no ReLU after the add
    assert (block(x) < 0).any()


def test_lsgan_and_translation_losses_by_hand():
    half = torch.full((2, 1, 6, 6), 0.5)
    assert lsgan_d_loss(half, half).item() == pytest.approx(0.5)  # 0.25 for each term
    assert lsgan_g_loss(half).item() == pytest.approx(0.25)
    real, fake = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0])
    assert lsgan_d_loss(real, fake).item() == pytest.approx((0 + 1) / 2 + (0 + 4) / 2)
    y, out = torch.tensor([[1.0, -1.0], [0.5, 0.0]]), torch.tensor([[0.0, -1.0], [1.0, 1.0]])
    assert l1_loss(out, y).item() == pytest.approx((1 + 0 + 0.5 + 1) / 4)
    x = torch.randn(3, 1, 8, 8)
    identity = nn.Identity()
    assert cycle_consistency_loss(x, identity(identity(x))).item() == 0  # identity generators: no cycle loss
    assert identity_loss(x, identity(x)).item() == 0
    assert cycle_consistency_loss(x, x + 0.25).item() == pytest.approx(0.25)


def test_image_pool_follows_the_reference_rules():
    torch.manual_seed(0)
    assert ImagePool(0).query(torch.ones(2, 1, 4, 4, requires_grad=True)).requires_grad is False
    pool = ImagePool(5)
    first = torch.arange(5.0).view(5, 1, 1, 1)
    assert torch.equal(pool.query(first), first)  # while filling: returned as they are
    assert len(pool.images) == 5
    seen_old = seen_new = 0
    for step in range(40):
        new = torch.full((3, 1, 1, 1), 100.0 + step, requires_grad=True)
        out = pool.query(new)
        assert out.shape == new.shape and not out.requires_grad and len(pool.images) == 5
        seen_new += int((out == 100.0 + step).sum())
        seen_old += int((out != 100.0 + step).sum())
    assert 0.3 < seen_old / (seen_old + seen_new) < 0.7  # about half swapped for a stored one
    state = pool.state_dict()
    again = ImagePool(5)
    again.load_state_dict(state)
    assert all(torch.equal(a, b) for a, b in zip(again.images, pool.images))


def test_linear_decay_matches_the_reference_schedule():
    factors = [linear_decay_factor(e, 200, 100) for e in (0, 99, 100, 150, 199)]
    assert factors == pytest.approx([1.0, 1.0, 0.990, 0.495, 0.0099], abs=5e-4)
    assert linear_decay_factor(10, 20, 0) == 1.0  # no decay


def test_side_by_side_rows_and_channels():
    grey, colour = torch.zeros(4, 1, 8, 8), torch.ones(4, 3, 8, 8)
    images, nrow = side_by_side(grey, colour, grey)
    assert nrow == 3 and images.shape == (12, 3, 8, 8)
    assert torch.equal(images[1], colour[0]) and torch.equal(images[3], grey[1].expand(3, -1, -1))
