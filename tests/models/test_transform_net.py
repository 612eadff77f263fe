"""Johnson et al.'s transformation network (toolkit/models/transform_net.py) and its perceptual-loss training
(toolkit/fast_style.py): shapes, range, layout, gradients, a frozen loss network, a falling loss."""

import pytest
import torch
from torch import nn

from toolkit.backbones import load_backbone
from toolkit.errors import ToolkitError
from toolkit.fast_style import builtin_photo, random_crops, stylize, train_transform_net
from toolkit.models.transform_net import LAYOUT_PAPER, ResidualBlock, TransformNet


@pytest.fixture(scope="module")
def backbone():
    return load_backbone("fmnist-cnn")


@pytest.mark.parametrize("size", [(32, 32), (40, 56), (33, 47), (17, 18)])
def test_output_has_the_input_size_and_lies_in_minus_one_one(size):
    torch.manual_seed(0)
    net = TransformNet(width=4, blocks=1)
    x = torch.randn(2, 3, *size) * 3  # far outside [-1, 1]: tanh still bounds the output
    y = net(x)
    assert y.shape == (2, 3, *size)
    assert y.min() >= -1 and y.max() <= 1 and y.abs().max() > 0.01


def test_layout_follows_the_paper():
    net = TransformNet()  # width 32, 5 blocks: the paper's network
    assert net.layout == LAYOUT_PAPER == "c9s1-32, d64, d128, 5 x R128, u64, u32, c9s1-3"
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs[:3]] == [
        (3, 32, 9, 1),
        (32, 64, 3, 2),
        (64, 128, 3, 2),
    ]
    assert (convs[-1].in_channels, convs[-1].out_channels, convs[-1].kernel_size[0]) == (32, 3, 9)
    assert sum(isinstance(m, ResidualBlock) for m in net.modules()) == 5
    norms = [m for m in net.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert (
        norms
        and all(n.affine for n in norms)
        and not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    )
    ups = [m for m in net.modules() if isinstance(m, nn.Upsample)]
    assert len(ups) == 2 and all(u.mode == "nearest" for u in ups)
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in net.modules())
    assert isinstance(net.output[-1], nn.Tanh)
    small = TransformNet(width=8, blocks=2, in_channels=1, out_channels=1)
    assert small.layout == "c9s1-8, d16, d32, 2 x R32, u16, u8, c9s1-1"
    assert small(torch.zeros(1, 1, 16, 16)).shape == (1, 1, 16, 16)


def test_residual_blocks_add_their_input():
    block = ResidualBlock(4)
    for p in block.block[-1].parameters():  # the last instance norm's affine weight and bias to 0: F(x) = 0
        nn.init.zeros_(p)
    x = torch.randn(2, 4, 8, 8)
    assert torch.allclose(block(x), x)


def test_gradient_reaches_every_parameter_through_the_perceptual_loss(backbone):
    torch.manual_seed(0)
    net = TransformNet(width=4, blocks=1)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    from toolkit.perceptual import perceptual_loss, style_grams, style_loss

    y = net(x)
    feats = backbone(y, ["relu1", "relu2"])
    target = backbone(x, ["relu2"])
    grams = style_grams(backbone(torch.rand(1, 3, 32, 32), ["relu1"]))
    loss = perceptual_loss({"relu2": feats["relu2"]}, target) + style_loss({"relu1": feats["relu1"]}, grams)
    assert loss.requires_grad and loss.grad_fn is not None
    loss.backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_training_lowers_the_loss_and_leaves_the_backbone_unchanged(backbone):
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    torch.manual_seed(0)
    net = TransformNet(width=4, blocks=1)
    net_before = [p.detach().clone() for p in net.parameters()]
    crops = torch.rand(8, 3, 24, 24) * 2 - 1
    style = torch.linspace(-1, 1, 3 * 24 * 24).view(1, 3, 24, 24).sin()
    rows = train_transform_net(net, crops, style, backbone, steps=30, batch_size=4, lr=1e-2, style_weight=1e3)
    assert [r["step"] for r in rows] == list(range(1, 31))
    assert set(rows[0]) >= {"step", "content", "style", "tv", "total", "seconds"}
    first = sum(r["total"] for r in rows[:5]) / 5
    last = sum(r["total"] for r in rows[-5:]) / 5
    assert last < 0.5 * first, (first, last)
    assert rows[-1]["style"] < rows[0]["style"]
    for k, v in backbone.state_dict().items():  # frozen: weights and batch-norm statistics unchanged
        assert torch.equal(v, before[k]), k
    assert all(not p.requires_grad for p in backbone.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(net_before, net.parameters())), "the network trained"


def test_stylize_is_one_forward_pass_in_batches():
    torch.manual_seed(0)
    net = TransformNet(width=4, blocks=1)
    x = torch.rand(5, 3, 16, 16) * 2 - 1
    out = stylize(net, x, batch_size=2)
    with torch.no_grad():
        assert torch.allclose(out, net(x), atol=1e-6)  # instance norm: no batch statistics, same in batches


def test_builtin_photos_and_crops():
    cat = builtin_photo("chelsea", 96)
    assert cat.shape == (1, 3, 64, 96) and cat.min() >= -1 and cat.max() <= 1
    assert builtin_photo("brick", 64).shape == (1, 1, 64, 64)
    crops = random_crops([cat, builtin_photo("coffee", 96)], 5, 32, seed=3)
    assert crops.shape == (5, 3, 32, 32)
    assert torch.equal(crops, random_crops([cat, builtin_photo("coffee", 96)], 5, 32, seed=3))
    with pytest.raises(ToolkitError, match="no sample image"):
        builtin_photo("no_such_photo")
    with pytest.raises(ToolkitError, match="too small"):
        random_crops([cat], 2, 80)
    with pytest.raises(ToolkitError, match=">= 1"):
        train_transform_net(TransformNet(4, 0), crops, cat, load_backbone("fmnist-cnn"), steps=0)
