"""PGGAN: Progressive Growing of GANs (Karras, Aila, Laine & Lehtinen, ICLR 2018, arXiv:1710.10196).

Training starts with a 4x4 generator G and discriminator D; every phase adds one resolution
(4 -> 8 -> ... -> ``max_resolution``). A new block is *faded in* (paper section 2, figure 2): while
``alpha`` goes from 0 to 1 the network's output is a blend of the old path and the new one,

    G:  x_r = (1 - alpha) * up2(toRGB_{r/2}(h_{r/2})) + alpha * toRGB_r(block_r(h_{r/2}))
    D:  h_{r/2} = (1 - alpha) * fromRGB_{r/2}(avgpool2(x)) + alpha * block_r(fromRGB_r(x))

where ``up2`` is nearest-neighbour 2x upsampling and ``avgpool2`` is 2x2 average pooling. At
alpha = 0 the new block has no effect at all (G's image is the old image, upsampled; D scores the
downsampled image with its old layers), so growing never throws away what was learnt.

Here every block of every resolution exists from construction, and the stage is a *forward
argument*: ``G(z, resolution, alpha)`` and ``D(x, alpha)`` (D reads the resolution from x). The
state_dict therefore has the same keys at every stage: "growing" just means "call with the next
resolution", and the old weights are kept because they are the same tensors. ``grown_parameters``
lists the layers that a stage starts to use (e.g. to give them to a fresh optimiser, as the paper
resets Adam at each growth).

The paper's three other ideas (sections 4.1, 4.2 and 3), each a small module below:

* equalized learning rate (4.1): weights start at N(0, 1) and are scaled at *run time* by
  c = gain / sqrt(fan_in) (He's constant, gain = sqrt(2)). Adam's step is about lr for every
  weight, so in units of each layer's own scale all layers now learn at the same speed;
* pixelwise feature normalisation in G (4.2): b = a / sqrt(mean_over_channels(a^2) + 1e-8), after
  every conv of G (and on z), instead of batch norm;
* minibatch standard deviation in D (3): one extra feature map, the std of each feature over a
  small group of samples, averaged, so D can tell when G's samples lack variety.

Channel widths follow tkarras's ``nf(stage) = min(8192 / 2^stage, 512)`` scaled down:

    nf(r) = min(max_width, 32 * width // r)     (at least 1; max_width defaults to width)

so with the defaults the width is constant (``width``) up to 32x32 and halves at every doubling
above; a larger ``max_width`` widens the low resolutions. G's output is linear (no tanh), as in the
paper: data in [-1, 1] are matched by training.

Constants that are not sqrt(2), from tkarras networks.py: toRGB and D's last dense layer use
gain 1; the dense layer from z to the 4x4 map uses sqrt(2) / 4 ("to match the Theano version").
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ToolkitError

EPSILON = 1e-8  # the paper's epsilon in pixel norm and minibatch stddev


# ---------------------------------------------------------------------------------------------
# Stages and widths
# ---------------------------------------------------------------------------------------------


def pggan_resolutions(max_resolution: int) -> list[int]:
    """The stages 4, 8, ..., max_resolution; ``max_resolution`` must be a power of two >= 4."""
    if not isinstance(max_resolution, int) or max_resolution < 4 or max_resolution & (max_resolution - 1):
        raise ToolkitError(
            f"PGGAN max_resolution must be a power of two >= 4 (4, 8, 16, 32, ...), got {max_resolution}"
        )
    return [2**k for k in range(2, int(math.log2(max_resolution)) + 1)]


def stage_width(resolution: int, width: int, max_width: int | None = None) -> int:
    """Channels at one resolution: nf(r) = min(max_width, 32 * width // r), at least 1."""
    cap = width if max_width is None else max_width
    return max(1, min(cap, 32 * width // resolution))


def _check_resolution(resolution: int, allowed: list[int]) -> None:
    if resolution not in allowed:
        raise ToolkitError(
            f"resolution {resolution} is not a stage of this network; "
            f"choose one of {', '.join(map(str, allowed))}"
        )


def _check_alpha(alpha: float) -> float:
    alpha = float(alpha)
    if not 0.0 <= alpha <= 1.0:
        raise ToolkitError(f"alpha (weight of the new block during fade-in) must be in [0, 1], got {alpha}")
    return alpha


def fade_in(old: torch.Tensor, new: torch.Tensor, alpha: float) -> torch.Tensor:
    """The fade-in blend (paper figure 2b): ``(1 - alpha) * old + alpha * new``.

    alpha = 0 gives exactly ``old``, alpha = 1 exactly ``new``.
    """
    return (1.0 - alpha) * old + alpha * new


# ---------------------------------------------------------------------------------------------
# Equalized learning rate (section 4.1)
# ---------------------------------------------------------------------------------------------


class EqualizedConv2d(nn.Module):
    """A conv whose weight w ~ N(0, 1) is used as w_hat = c * w, c = gain / sqrt(in_ch * k * k).

    Storing w at unit scale and applying He's constant c at run time keeps the *initial* output
    variance of He init (about gain^2 times the input's), but Adam's updates (about lr per weight,
    whatever the gradient's size) are now relative to w's unit scale, so the relative change per
    step, |delta w_hat| / |w_hat|, is the same for every layer.
    """

    def __init__(
        self, in_ch: int, out_ch: int, kernel_size: int, padding: int = 0, gain: float = math.sqrt(2)
    ):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel_size, kernel_size))  # N(0, 1)
        self.bias = nn.Parameter(torch.zeros(out_ch))
        self.padding = padding
        self.scale = gain / math.sqrt(in_ch * kernel_size * kernel_size)  # c = gain / sqrt(fan_in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)

    def extra_repr(self) -> str:
        out_ch, in_ch, k, _ = self.weight.shape
        return f"{in_ch}, {out_ch}, kernel_size={k}, padding={self.padding}, scale={self.scale:.5f}"


class EqualizedLinear(nn.Module):
    """A dense layer with the same run-time scaling: y = (c * W) x + b, c = gain / sqrt(in_f)."""

    def __init__(self, in_f: int, out_f: int, gain: float = math.sqrt(2)):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_f, in_f))  # N(0, 1)
        self.bias = nn.Parameter(torch.zeros(out_f))
        self.scale = gain / math.sqrt(in_f)  # c = gain / sqrt(fan_in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)

    def extra_repr(self) -> str:
        out_f, in_f = self.weight.shape
        return f"{in_f}, {out_f}, scale={self.scale:.5f}"


# ---------------------------------------------------------------------------------------------
# Pixelwise feature normalisation (section 4.2) and minibatch stddev (section 3)
# ---------------------------------------------------------------------------------------------


class PixelNorm(nn.Module):
    """b_{x,y} = a_{x,y} / sqrt(1/N * sum_j (a^j_{x,y})^2 + eps): each pixel's feature vector scaled to
    unit mean square over the N channels (dim 1). No learnt parameters."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + EPSILON)


class MinibatchStdDev(nn.Module):
    """Appends one feature map: how much the samples of a small group differ (paper section 3).

    As tkarras networks.py: split the batch of N into groups of G samples (sample n is in group
    n mod N/G); per group, for every feature and pixel, the **biased** variance over the G members
    (mean of squared deviations from the group mean), std = sqrt(var + 1e-8); average the stds over
    C, H, W to one number per group; append it as a constant extra channel to each member.

    G = min(group_size, N). When N is not a multiple of G (a last, smaller batch), G is lowered to
    the largest divisor of N that is <= group_size, so every sample is in a group of equal size.
    A group of one sample has variance 0 and gives sqrt(1e-8) = 1e-4, never NaN.
    """

    def __init__(self, group_size: int = 4):
        super().__init__()
        if group_size < 1:
            raise ToolkitError(f"MinibatchStdDev group_size must be >= 1, got {group_size}")
        self.group_size = group_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = min(self.group_size, n)
        while n % g:  # the largest divisor of n that is <= group_size
            g -= 1
        y = x.reshape(g, n // g, c, h, w)  # [G, M, C, H, W], M groups
        y = y - y.mean(dim=0, keepdim=True)  # deviation from the group mean
        var = y.pow(2).mean(dim=0)  # biased variance over the group
        std = torch.sqrt(var + EPSILON)  # [M, C, H, W]
        per_group = std.mean(dim=(1, 2, 3))  # [M]: one number per group
        extra = per_group.repeat(g).view(n, 1, 1, 1).expand(n, 1, h, w)  # sample n -> group n mod M
        return torch.cat([x, extra], dim=1)


# ---------------------------------------------------------------------------------------------
# Blocks (paper table 2)
# ---------------------------------------------------------------------------------------------


def _act() -> nn.Module:
    return nn.LeakyReLU(0.2)  # LeakyReLU 0.2 everywhere in G and D, except G's output (linear)


class GeneratorFirstBlock(nn.Module):
    """z (B, z_dim) -> PixelNorm -> dense to 4x4xC (a 4x4 "conv" on a 1x1 input) -> act, PN ->
    conv3x3 -> act, PN."""

    def __init__(self, z_dim: int, ch: int):
        super().__init__()
        self.ch = ch
        self.pixel_norm = PixelNorm()
        self.dense = EqualizedLinear(z_dim, ch * 4 * 4, gain=math.sqrt(2) / 4)  # tkarras networks.py:184
        self.conv = EqualizedConv2d(ch, ch, 3, padding=1)
        self.act = _act()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = self.pixel_norm(z.reshape(z.shape[0], -1))  # normalise the latent first
        x = self.dense(z).view(-1, self.ch, 4, 4)
        x = self.pixel_norm(self.act(x))
        return self.pixel_norm(self.act(self.conv(x)))


class GeneratorBlock(nn.Module):
    """One doubling of G: nearest 2x upsample, then two (conv3x3 -> LeakyReLU -> PixelNorm)."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.conv1 = EqualizedConv2d(in_ch, out_ch, 3, padding=1)
        self.conv2 = EqualizedConv2d(out_ch, out_ch, 3, padding=1)
        self.act = _act()
        self.pixel_norm = PixelNorm()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = self.pixel_norm(self.act(self.conv1(x)))
        return self.pixel_norm(self.act(self.conv2(x)))


class DiscriminatorBlock(nn.Module):
    """One halving of D: two (conv3x3 -> LeakyReLU), then 2x2 average pooling."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.conv1 = EqualizedConv2d(in_ch, in_ch, 3, padding=1)
        self.conv2 = EqualizedConv2d(in_ch, out_ch, 3, padding=1)
        self.act = _act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.conv1(x))
        x = self.act(self.conv2(x))
        return F.avg_pool2d(x, 2)


class DiscriminatorLastBlock(nn.Module):
    """D's 4x4 block: minibatch stddev (+1 channel) -> conv3x3 -> act -> dense -> act -> dense to 1
    score (gain 1, tkarras networks.py:284). Output (B,)."""

    def __init__(self, ch: int, group_size: int = 4):
        super().__init__()
        self.mbstd = MinibatchStdDev(group_size)
        self.conv = EqualizedConv2d(ch + 1, ch, 3, padding=1)
        self.dense = EqualizedLinear(ch * 4 * 4, ch)
        self.out = EqualizedLinear(ch, 1, gain=1.0)
        self.act = _act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.conv(self.mbstd(x)))
        x = self.act(self.dense(x.flatten(1)))
        return self.out(x).view(-1)


# ---------------------------------------------------------------------------------------------
# The networks
# ---------------------------------------------------------------------------------------------


class PGGANGenerator(nn.Module):
    """``G(z, resolution=None, alpha=1.0)`` -> images (B, channels, resolution, resolution), linear output.

    ``resolution`` None means ``max_resolution``. During the fade-in of resolution r (> 4):

        out = fade_in(up2(to_rgb[r/2](h)), to_rgb[r](blocks[r](h)), alpha),  h = features at r/2

    alpha = 0 skips the new block, alpha = 1 skips the old toRGB. At 4x4 alpha is ignored.
    ``blocks`` and ``to_rgb`` are ModuleDicts keyed by str(resolution); ``blocks["4"]`` takes z.
    """

    def __init__(
        self,
        z_dim: int = 128,
        channels: int = 1,
        max_resolution: int = 32,
        width: int = 128,
        max_width: int | None = None,
    ):
        super().__init__()
        self.resolutions = pggan_resolutions(max_resolution)
        self.max_resolution = max_resolution
        self.z_dim = z_dim
        self.channels = channels
        nf = [stage_width(r, width, max_width) for r in self.resolutions]
        self.widths = dict(zip(self.resolutions, nf))
        self.blocks = nn.ModuleDict({"4": GeneratorFirstBlock(z_dim, nf[0])})
        for i, r in enumerate(self.resolutions[1:], start=1):
            self.blocks[str(r)] = GeneratorBlock(nf[i - 1], nf[i])
        # one 1x1 toRGB per resolution, gain 1 (tkarras networks.py:203)
        self.to_rgb = nn.ModuleDict(
            {str(r): EqualizedConv2d(nf[i], channels, 1, gain=1.0) for i, r in enumerate(self.resolutions)}
        )

    def forward(self, z: torch.Tensor, resolution: int | None = None, alpha: float = 1.0) -> torch.Tensor:
        resolution = self.max_resolution if resolution is None else resolution
        _check_resolution(resolution, self.resolutions)
        alpha = _check_alpha(alpha)
        if math.prod(z.shape[1:]) != self.z_dim:
            raise ToolkitError(f"this generator takes z of size {self.z_dim}, got {tuple(z.shape[1:])}")
        h = self.blocks["4"](z)
        if resolution == 4:
            return self.to_rgb["4"](h)
        for r in self.resolutions[1:]:
            if r == resolution:
                break
            h = self.blocks[str(r)](h)  # the stable blocks up to r/2
        old_res, new_res = str(resolution // 2), str(resolution)
        if alpha == 0.0:  # new block not used yet
            return F.interpolate(self.to_rgb[old_res](h), scale_factor=2, mode="nearest")
        new = self.to_rgb[new_res](self.blocks[new_res](h))
        if alpha == 1.0:  # fade-in done: old toRGB unused
            return new
        old = F.interpolate(self.to_rgb[old_res](h), scale_factor=2, mode="nearest")
        return fade_in(old, new, alpha)


class PGGANDiscriminator(nn.Module):
    """``D(x, alpha=1.0)`` -> one raw score per sample (B,); the resolution is read from x.

    During the fade-in of resolution r (> 4):

        h = fade_in(from_rgb[r/2](avgpool2(x)), blocks[r](from_rgb[r](x)), alpha)

    then blocks r/2, ..., 8 and the 4x4 block (minibatch stddev, conv, dense, dense). alpha = 0 skips
    the new layers, alpha = 1 the old fromRGB; at 4x4 alpha is ignored. ``blocks`` and ``from_rgb``
    are ModuleDicts keyed by str(resolution); ``blocks["4"]`` is the final block. ``max_width``
    mirrors the generator's so both sides can use the same widths.
    """

    def __init__(
        self,
        channels: int = 1,
        max_resolution: int = 32,
        width: int = 128,
        max_width: int | None = None,
        group_size: int = 4,
    ):
        super().__init__()
        self.resolutions = pggan_resolutions(max_resolution)
        self.max_resolution = max_resolution
        self.channels = channels
        nf = [stage_width(r, width, max_width) for r in self.resolutions]
        self.widths = dict(zip(self.resolutions, nf))
        self.blocks = nn.ModuleDict({"4": DiscriminatorLastBlock(nf[0], group_size)})
        for i, r in enumerate(self.resolutions[1:], start=1):
            self.blocks[str(r)] = DiscriminatorBlock(nf[i], nf[i - 1])
        # one 1x1 fromRGB (+ LeakyReLU) per resolution
        self.from_rgb = nn.ModuleDict(
            {
                str(r): nn.Sequential(EqualizedConv2d(channels, nf[i], 1), _act())
                for i, r in enumerate(self.resolutions)
            }
        )

    def forward(self, x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
        if x.dim() != 4 or x.shape[-1] != x.shape[-2]:
            raise ToolkitError(f"PGGAN discriminator takes square images (B, C, H, H), got {tuple(x.shape)}")
        if x.shape[1] != self.channels:
            raise ToolkitError(f"this discriminator takes {self.channels}-channel images, got {x.shape[1]}")
        resolution = x.shape[-1]
        _check_resolution(resolution, self.resolutions)
        alpha = _check_alpha(alpha)
        if resolution == 4:
            return self.blocks["4"](self.from_rgb["4"](x))
        old_res, new_res = str(resolution // 2), str(resolution)
        if alpha == 0.0:  # new layers not used yet
            h = self.from_rgb[old_res](F.avg_pool2d(x, 2))
        else:
            h = self.blocks[new_res](self.from_rgb[new_res](x))
            if alpha < 1.0:
                h = fade_in(self.from_rgb[old_res](F.avg_pool2d(x, 2)), h, alpha)
        for r in reversed(self.resolutions[1:]):
            if r < resolution:
                h = self.blocks[str(r)](h)  # the stable blocks r/2, ..., 8
        return self.blocks["4"](h)


def grown_parameters(net: PGGANGenerator | PGGANDiscriminator, resolution: int) -> list[nn.Parameter]:
    """The parameters a network starts to use at ``resolution``: its block and its to/fromRGB layer.

    All blocks exist from construction, so growing keeps every old weight (same tensors); these are
    the ones that were idle until now, e.g. to check or to optimise separately.
    """
    _check_resolution(resolution, net.resolutions)
    rgb = net.to_rgb if isinstance(net, PGGANGenerator) else net.from_rgb
    return list(net.blocks[str(resolution)].parameters()) + list(rgb[str(resolution)].parameters())
