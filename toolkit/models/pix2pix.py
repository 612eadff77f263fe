"""pix2pix's networks (Isola et al. 2017): the U-Net generator and the PatchGAN discriminator.

Both follow the reference implementation (junyanz/pytorch-CycleGAN-and-pix2pix, ``networks.py``); the
widths are parameters so they train on a CPU. CycleGAN reuses the PatchGAN (``toolkit/models/cyclegan.py``).

**U-Net** (paper section 3.2.1, appendix 6.1.1). An encoder of ``num_downs`` 4x4 stride-2 convolutions
halves the image down to a 1x1 bottleneck (``num_downs = log2(H)``: 5 for 32x32, 8 for the paper's 256); the
decoder mirrors it with 4x4 stride-2 transposed convolutions. A *skip* concatenates each encoder layer's
output onto the decoder layer of the same size, so detail the input already has (edges, positions) need
not squeeze through the bottleneck. ``skips=False`` builds the same network without them: the
encoder-decoder the paper compares against (figure 5). Down: LeakyReLU(0.2), conv, norm (the outermost
without activation or norm, the innermost without norm); up: ReLU, transposed conv, norm (the outermost:
Tanh, no norm). Dropout 0.5 sits in the ``num_downs - 5`` intermediate blocks of width ``8 * width`` (the
paper's CD512 blocks); at 32x32 there are none.

**PatchGAN** (section 3.2.2). A fully convolutional D whose every output judges one N x N patch of its
input, so it models high frequencies (local texture, sharpness) while L1 takes care of the low ones.
Layers: C(width, no norm) and ``n_layers - 1`` more convolutions at stride 2 doubling the width (capped at
8x), then one at stride 1, then a 1-channel output conv at stride 1; all 4x4 with padding 1, LeakyReLU(0.2),
no sigmoid (the loss takes logits). Receptive field (:func:`patch_receptive_field`): 16, 34, **70**, 142
pixels for n_layers 1, 2, **3** (the paper's "70x70"), 4. Output map for n_layers 3: H/8 - 2 per side.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import ToolkitError


def norm_layer(kind: str, channels: int) -> nn.Module:
    """'batch' (pix2pix) or 'instance' (CycleGAN: no affine, no running statistics, as the reference)."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    raise ToolkitError(f"unknown --norm {kind!r}; choose batch or instance")


class UNetBlock(nn.Module):
    """One level of the U-Net: down, the inner levels (``inner``), up; with the skip, its output is
    ``cat([x, up(inner(down(x)))])`` (twice the channels of ``x`` for the level above to take)."""

    def __init__(
        self,
        outer: int,
        inner_ch: int,
        inner: nn.Module | None,
        norm: str,
        in_ch: int | None = None,
        outermost: bool = False,
        dropout: bool = False,
        skips: bool = True,
    ):
        super().__init__()
        in_ch = outer if in_ch is None else in_ch
        self.skip = skips and not outermost
        bias = norm == "instance"  # batch norm has its own shift; the reference drops the conv bias there
        down_conv = nn.Conv2d(in_ch, inner_ch, 4, stride=2, padding=1, bias=bias)
        # the inner level returns cat([its input, its output]) when it has a skip: twice the channels
        up_in = inner_ch if inner is None or not skips else inner_ch * 2
        if outermost:
            down = [down_conv]
            up = [nn.ReLU(True), nn.ConvTranspose2d(up_in, outer, 4, stride=2, padding=1), nn.Tanh()]
        elif inner is None:  # innermost: the bottleneck, no norm on the way down
            down = [nn.LeakyReLU(0.2, True), down_conv]
            up = [
                nn.ReLU(True),
                nn.ConvTranspose2d(up_in, outer, 4, 2, 1, bias=bias),
                norm_layer(norm, outer),
            ]
        else:
            down = [nn.LeakyReLU(0.2, True), down_conv, norm_layer(norm, inner_ch)]
            up = [
                nn.ReLU(True),
                nn.ConvTranspose2d(up_in, outer, 4, 2, 1, bias=bias),
                norm_layer(norm, outer),
            ]
            if dropout:
                up.append(nn.Dropout(0.5))
        self.down = nn.Sequential(*down)
        self.inner = inner if inner is not None else nn.Identity()
        self.up = nn.Sequential(*up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.up(self.inner(self.down(x)))
        return torch.cat([x, y], 1) if self.skip else y


class UNetGenerator(nn.Module):
    """A -> B image translator; H and W must be multiples of ``2 ** num_downs`` (:attr:`multiple`)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_downs: int = 5,
        width: int = 64,
        norm: str = "batch",
        dropout: bool = True,
        skips: bool = True,
    ):
        super().__init__()
        if num_downs < 5:
            raise ToolkitError(
                f"the U-Net needs at least 5 downsamplings (images of 32 pixels), got {num_downs}"
            )
        self.num_downs, self.multiple, self.skips = num_downs, 2**num_downs, skips
        self.in_channels, self.out_channels = in_channels, out_channels
        w = width
        block = UNetBlock(w * 8, w * 8, None, norm, skips=skips)  # built inside out: the bottleneck first
        for _ in range(num_downs - 5):
            block = UNetBlock(w * 8, w * 8, block, norm, dropout=dropout, skips=skips)
        block = UNetBlock(w * 4, w * 8, block, norm, skips=skips)
        block = UNetBlock(w * 2, w * 4, block, norm, skips=skips)
        block = UNetBlock(w, w * 2, block, norm, skips=skips)
        self.net = UNetBlock(out_channels, w, block, norm, in_ch=in_channels, outermost=True, skips=skips)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return self.net(a)


def patch_receptive_field(n_layers: int) -> int:
    """How many input pixels (per side) one PatchGAN output sees: walk back from one output pixel through
    each 4x4 conv, r <- r * stride + (4 - stride): the n_layers stride-2 convs, then the two at stride 1."""
    r = 1
    for stride in [1, 1] + [2] * n_layers:  # output side first
        r = r * stride + (4 - stride)
    return r


def auto_patch_layers(resolution: int) -> int:
    """The deepest PatchGAN (1-4 layers) whose receptive field is at most half the image side: 3 (70x70)
    for the paper's 256-pixel images, 1 (16x16) for 32 or 64 pixels."""
    best = 1
    for n in range(1, 5):
        if patch_receptive_field(n) <= resolution / 2:
            best = n
    return best


class PatchDiscriminator(nn.Module):
    """N x N PatchGAN: (B, in_channels, H, W) -> (B, 1, h, w) logits, one per patch.

    For pix2pix, D is conditional: it sees the input and the (real or generated) output concatenated
    on channels, so ``in_channels`` = A's channels + B's channels."""

    def __init__(self, in_channels: int, width: int = 64, n_layers: int = 3, norm: str = "batch"):
        super().__init__()
        if not 1 <= n_layers <= 6:
            raise ToolkitError(f"PatchGAN layers must be between 1 and 6, got {n_layers}")
        self.n_layers, self.receptive_field = n_layers, patch_receptive_field(n_layers)
        bias = norm == "instance"
        layers = [nn.Conv2d(in_channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers + 1):  # n_layers - 1 more at stride 2, then one at stride 1
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [
                nn.Conv2d(width * prev, width * mult, 4, stride=stride, padding=1, bias=bias),
                norm_layer(norm, width * mult),
                nn.LeakyReLU(0.2, True),
            ]
        layers.append(nn.Conv2d(width * mult, 1, 4, stride=1, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def init_weights(net: nn.Module) -> nn.Module:
    """The reference's 'normal' init: conv weights N(0, 0.02), biases 0; batch-norm weights N(1, 0.02)."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return net
