"""StyleGAN2, small: a style-based generator (Karras et al. 2019, 2020; arXiv:1812.04948, 1912.04958).

The generator has two parts.

**Mapping network** f: Z -> W. z ~ N(0, I) is normalised to unit mean square, then an MLP of
``mapping_layers`` dense layers with LeakyReLU(0.2) gives w. Its learning rate is 100x lower than the
synthesis network's (``lr_multiplier`` 0.01, StyleGAN section 4 / appendix C): with the equalized
learning rate of PGGAN (lesson 08) a raw weight u is used as

    W = (lr_multiplier / sqrt(fan_in)) * u,   u initialised N(0, 1 / lr_multiplier^2)

so W starts as He's N(0, 1 / fan_in) but Adam's step (about lr per raw weight) moves W by only
lr_multiplier * lr / sqrt(fan_in): the mapping net learns at 0.01x the base rate. The generator tracks
the running mean ``w_avg`` of w during training (decay 0.995), for the truncation trick.

**Synthesis network** g: W^L -> images. It starts from a learned constant 4x4 map; each resolution
4, 8, ..., R has a block of 3x3 convolutions (two, one at 4x4; the first of each doubling block
upsamples). Every convolution and every toRGB layer gets its own copy of w (``ws[:, l]``), turned into
a per-input-channel style s = A_l(w) by a learned affine layer (bias 1, so styles start at 1).

Style injection (StyleGAN2 section 2.2, eq. 1-3), per sample, on the conv weight w_{ijk}
(i input channel, j output channel, k kernel position):

    (1) modulation:   w'_{ijk} = s_i * w_{ijk}
    (2) the output's std for unit-variance, independent inputs: sigma_j = sqrt(sum_{i,k} w'_{ijk}^2)
    (3) demodulation: w''_{ijk} = w'_{ijk} / sqrt(sum_{i,k} w'_{ijk}^2 + eps)

so every output channel has unit variance again, whatever the style's magnitude. Each sample has its
own weights: :func:`modulated_conv2d` runs the batch as one *grouped* convolution (B groups). StyleGAN1
instead normalised the *activations* (:func:`adain`, kept here for teaching): instance norm then
y_s * x + y_b. That discards each feature map's magnitude, and the generator learned to smuggle it
past the normalisation in one strong, localised spike: the "water droplet" artefacts that
demodulation (a statistical assumption on the weights, not a normalisation of the data) removed.

After every convolution: per-pixel noise, one N(0, 1) map per layer, added with a learned strength per
channel (StyleGAN1's B; stylegan2-ada uses one scalar per layer), then a bias and LeakyReLU(0.2) * sqrt(2)
(the sqrt(2) keeps the signal's magnitude, as He's gain would). Each block's toRGB (1x1 modulated conv,
no demodulation) is added to the upsampled image of the block before: the "skip" generator, whose
output is the sum of all resolutions' contributions.

Two tricks on W:

* truncation (StyleGAN section 3.1 / appendix B): w' = w_avg + psi * (w - w_avg); psi = 1 leaves w,
  psi = 0 gives the average image for every z; in between it trades diversity for typical images;
* style mixing (section 3.1): the layers before a crossover index take w from z1, the rest from z2;
  during training this happens with probability ``mixing`` (0.9), so neighbouring layers' styles are
  not assumed to be correlated.

Departures from the reference (NVlabs/stylegan2-ada-pytorch ``training/networks.py``), for a readable
CPU-sized model: up- and downsampling are bilinear / 2x2 average instead of the [1, 3, 3, 1] FIR filter;
no fp16 clamping or fused ops. The discriminator is the reference's residual D (section 4.1, figure 7),
small, with the minibatch-stddev layer of PGGAN.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ToolkitError
from .pggan import EqualizedConv2d, MinibatchStdDev, pggan_resolutions, stage_width
from .pggan import EqualizedLinear as PGGANLinear

EPSILON = 1e-8
ACT_GAIN = math.sqrt(2)  # LeakyReLU(0.2) * sqrt(2): the reference's bias_act gain for "lrelu"


def act(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2) * ACT_GAIN


def normalize_2nd_moment(z: torch.Tensor) -> torch.Tensor:
    """z / sqrt(mean(z^2) + eps) over the features: every latent on the sphere of radius sqrt(dim)."""
    return z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + EPSILON)


class EqualizedLinear(PGGANLinear):
    """PGGAN's equalized dense layer (lesson 08) with a learning-rate multiplier and a bias init.

    Stored u ~ N(0, 1 / m^2), used as W = (gain * m / sqrt(fan_in)) * u and b = m * b_raw, where m is
    ``lr_multiplier``: W starts with PGGAN's scale, but Adam's per-weight step of about lr moves W by
    only m * lr * gain / sqrt(fan_in). The mapping network uses m = 0.01.
    """

    def __init__(
        self, in_f: int, out_f: int, gain: float = 1.0, lr_multiplier: float = 1.0, bias_init: float = 0.0
    ):
        super().__init__(in_f, out_f, gain)
        with torch.no_grad():
            self.weight.div_(lr_multiplier)
            self.bias.fill_(bias_init / lr_multiplier)
        self.lr_multiplier = lr_multiplier
        self.scale = gain * lr_multiplier / math.sqrt(in_f)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_multiplier)


# ---------------------------------------------------------------------------------------------
# Style injection: AdaIN (StyleGAN1) and the modulated convolution (StyleGAN2)
# ---------------------------------------------------------------------------------------------


def adain(x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """AdaIN (StyleGAN eq. 1): y_s * (x - mu(x)) / sigma(x) + y_b, mu and sigma per sample and channel
    over the pixels; ``scale`` and ``bias`` are (B, C). Kept for teaching: the StyleGAN2 generator
    uses :func:`modulated_conv2d`."""
    mu = x.mean(dim=(2, 3), keepdim=True)
    sigma = torch.sqrt(x.var(dim=(2, 3), keepdim=True, unbiased=False) + EPSILON)
    return scale[:, :, None, None] * (x - mu) / sigma + bias[:, :, None, None]


def modulate(weight: torch.Tensor, styles: torch.Tensor, demodulate: bool = True) -> torch.Tensor:
    """Per-sample weights (B, O, I, k, k) from ``weight`` (O, I, k, k) and ``styles`` (B, I): eq. 1, then
    eq. 3 when ``demodulate`` (every output channel's weights scaled to unit L2 norm)."""
    w = weight.unsqueeze(0) * styles[:, None, :, None, None]  # (1) w' = s_i * w_ijk
    if demodulate:
        d = torch.rsqrt(w.square().sum(dim=(2, 3, 4), keepdim=True) + EPSILON)  # (2) 1 / sigma_j
        w = w * d  # (3) w'' = w' / sigma_j
    return w


def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    demodulate: bool = True,
    padding: int = 0,
    grouped: bool = True,
) -> torch.Tensor:
    """The modulated (and demodulated) convolution: sample b convolved with its own weights.

    ``grouped`` (the reference's fused_modconv): the batch is folded into the channels, x (B, I, H, W) ->
    (1, B*I, H, W), the weights into (B*O, I, k, k), and one convolution with ``groups=B`` convolves each
    sample with its weights only. Otherwise the same result in three cheaper steps, because the style
    and the demodulation factor are per input and per output channel: scale x's channels by s, convolve
    with the shared weight, scale the output's channels by 1 / sigma_j (the reference trains this way;
    on a CPU it is several times faster).
    """
    b, i, h, w = x.shape
    o, _, kh, kw = weight.shape
    if styles.shape != (b, i):
        raise ToolkitError(f"styles must be (batch, in_channels) = {(b, i)}, got {tuple(styles.shape)}")
    if not grouped:
        out = F.conv2d(x * styles[:, :, None, None], weight, padding=padding)
        if demodulate:  # 1 / sigma_j = 1 / sqrt(sum_{i,k} (s_i w_ijk)^2 + eps), without building w'
            d = torch.rsqrt(styles.square() @ weight.square().sum(dim=(2, 3)).T + EPSILON)  # (B, O)
            out = out * d[:, :, None, None]
        return out
    wts = modulate(weight, styles, demodulate)  # (B, O, I, k, k)
    out = F.conv2d(x.reshape(1, b * i, h, w), wts.reshape(b * o, i, kh, kw), padding=padding, groups=b)
    return out.reshape(b, o, *out.shape[2:])


# ---------------------------------------------------------------------------------------------
# The generator's layers
# ---------------------------------------------------------------------------------------------


class MappingNetwork(nn.Module):
    """z (B, z_dim) -> w (B, w_dim): normalise z, then ``layers`` dense layers (lr multiplier 0.01).

    ``w_avg`` (a buffer) follows the batch mean of w in training mode:
    w_avg <- w_avg + (1 - beta) * (mean(w) - w_avg), beta = ``w_avg_beta``.
    """

    def __init__(
        self,
        z_dim: int,
        w_dim: int,
        layers: int = 8,
        lr_multiplier: float = 0.01,
        w_avg_beta: float = 0.995,
    ):
        super().__init__()
        dims = [z_dim] + [w_dim] * layers
        self.fcs = nn.ModuleList(
            EqualizedLinear(a, b, lr_multiplier=lr_multiplier) for a, b in zip(dims[:-1], dims[1:])
        )
        self.z_dim, self.w_dim, self.w_avg_beta = z_dim, w_dim, w_avg_beta
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = normalize_2nd_moment(z.reshape(z.shape[0], -1))
        for fc in self.fcs:
            x = act(fc(x))
        if self.training:
            with torch.no_grad():
                self.w_avg.lerp_(x.detach().mean(dim=0), 1.0 - self.w_avg_beta)
        return x


class SynthesisLayer(nn.Module):
    """Style -> modulated 3x3 conv (upsampling 2x first if ``up``) -> + noise * strength -> bias, act."""

    def __init__(self, in_ch: int, out_ch: int, w_dim: int, resolution: int, up: bool = False):
        super().__init__()
        self.affine = EqualizedLinear(w_dim, in_ch, bias_init=1.0)  # styles start at 1
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, 3, 3))
        self.bias = nn.Parameter(torch.zeros(out_ch))
        self.noise_strength = nn.Parameter(torch.zeros(out_ch))  # learned, per channel; starts at 0
        self.register_buffer("noise_const", torch.randn(resolution, resolution))  # for noise_mode "const"
        self.up, self.resolution = up, resolution

    def forward(
        self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "random", noise: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``noise_mode``: "random" (a fresh map per call), "const" (the stored map) or "none";
        an explicit ``noise`` (B, 1, H, W) is used as it is."""
        if self.up:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        styles = self.affine(w)
        x = modulated_conv2d(x, self.weight, styles, padding=1, grouped=not self.training)  # as the reference
        if noise is None and noise_mode == "random":
            noise = torch.randn(x.shape[0], 1, self.resolution, self.resolution, device=x.device)
        elif noise is None and noise_mode == "const":
            noise = self.noise_const.expand(x.shape[0], 1, -1, -1)
        if noise is not None:
            x = x + noise * self.noise_strength[None, :, None, None]
        return act(x + self.bias[None, :, None, None])


class ToRGBLayer(nn.Module):
    """Style -> modulated 1x1 conv to image channels, *not* demodulated (colours keep their scale), + bias."""

    def __init__(self, in_ch: int, channels: int, w_dim: int):
        super().__init__()
        # the reference's weight_gain 1/sqrt(in_ch), folded into the affine layer's output
        self.affine = EqualizedLinear(w_dim, in_ch, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(channels, in_ch, 1, 1))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.weight_gain = 1.0 / math.sqrt(in_ch)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain
        out = modulated_conv2d(x, self.weight, styles, demodulate=False, grouped=not self.training)
        return out + self.bias[None, :, None, None]


class SynthesisBlock(nn.Module):
    """One resolution: the 4x4 block starts from the learned constant and has one conv; the others
    upsample and have two. Each adds its toRGB output to the upsampled image so far."""

    def __init__(self, in_ch: int, out_ch: int, w_dim: int, resolution: int, channels: int):
        super().__init__()
        self.resolution = resolution
        if resolution == 4:
            self.const = nn.Parameter(torch.randn(out_ch, 4, 4))
            self.convs = nn.ModuleList([SynthesisLayer(out_ch, out_ch, w_dim, 4)])
        else:
            self.convs = nn.ModuleList(
                [
                    SynthesisLayer(in_ch, out_ch, w_dim, resolution, up=True),
                    SynthesisLayer(out_ch, out_ch, w_dim, resolution),
                ]
            )
        self.torgb = ToRGBLayer(out_ch, channels, w_dim)

    def forward(self, x, img, ws: torch.Tensor, noise_mode: str = "random", noises=None):
        """``ws`` (B, len(convs) + 1, w_dim): one w per conv, then the toRGB's."""
        if self.resolution == 4:
            x = self.const.unsqueeze(0).expand(ws.shape[0], -1, -1, -1)
        for i, conv in enumerate(self.convs):
            x = conv(x, ws[:, i], noise_mode, None if noises is None else noises[i])
        y = self.torgb(x, ws[:, len(self.convs)])
        if img is not None:
            y = y + F.interpolate(img, scale_factor=2, mode="bilinear", align_corners=False)
        return x, y


class SynthesisNetwork(nn.Module):
    """ws (B, num_ws, w_dim) -> images (B, channels, R, R). Layer l of the convs uses ws[:, l]; a block's
    toRGB uses the w of the next block's first conv (as the reference), so num_ws = convs + 1."""

    def __init__(self, w_dim: int, channels: int, resolution: int, width: int):
        super().__init__()
        self.resolutions = pggan_resolutions(resolution)
        nf = {r: stage_width(r, width) for r in self.resolutions}
        self.blocks = nn.ModuleList(
            SynthesisBlock(nf[max(r // 2, 4)], nf[r], w_dim, r, channels) for r in self.resolutions
        )
        self.num_convs = sum(len(b.convs) for b in self.blocks)
        self.num_ws = self.num_convs + 1
        self.w_dim = w_dim

    def forward(self, ws: torch.Tensor, noise_mode: str = "random", noises=None) -> torch.Tensor:
        """``noises``: None, or one map (B, 1, H, W) or None per conv layer, in order."""
        if ws.dim() != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ToolkitError(f"ws must be (batch, {self.num_ws}, {self.w_dim}), got {tuple(ws.shape)}")
        if noises is not None and len(noises) != self.num_convs:
            raise ToolkitError(
                f"noises must have one entry per conv layer ({self.num_convs}), got {len(noises)}"
            )
        x = img = None
        layer = 0
        for block in self.blocks:
            n = len(block.convs)
            block_noise = None if noises is None else noises[layer : layer + n]
            x, img = block(x, img, ws[:, layer : layer + n + 1], noise_mode, block_noise)
            layer += n
        return img


def truncate(ws: torch.Tensor, w_avg: torch.Tensor, psi: float) -> torch.Tensor:
    """The truncation trick in W: w_avg + psi * (w - w_avg)."""
    return w_avg.lerp(ws, psi) if psi != 1 else ws


def mix_styles(ws1: torch.Tensor, ws2: torch.Tensor, crossover: int) -> torch.Tensor:
    """Style mixing: layers [0, crossover) from ws1, layers [crossover, num_ws) from ws2."""
    if not 0 <= crossover <= ws1.shape[1]:
        raise ToolkitError(f"the crossover layer must be in 0..{ws1.shape[1]}, got {crossover}")
    return torch.cat([ws1[:, :crossover], ws2[:, crossover:]], dim=1)


class StyleGANGenerator(nn.Module):
    """``G(z, psi=1.0, z2=None, crossover=None, noise_mode="random")`` -> images (B, C, R, R), linear output.

    ``mapping(z)`` -> w, broadcast to every layer: ``ws`` (B, num_ws, w_dim); ``truncation_psi`` (set by
    ``sample --truncation``) is used when ``psi`` is not given, and ``noise_mode`` ("random" for training;
    a trained run's sampler sets "const", the stored noise maps, as the reference's generate.py) when
    ``noise_mode`` is not. With ``z2`` and ``crossover``, the layers from ``crossover`` on take z2's w
    (style mixing).
    """

    def __init__(
        self,
        z_dim: int = 128,
        w_dim: int = 128,
        channels: int = 1,
        resolution: int = 32,
        width: int = 64,
        mapping_layers: int = 8,
        lr_multiplier: float = 0.01,
    ):
        super().__init__()
        self.z_dim, self.w_dim, self.channels, self.resolution = z_dim, w_dim, channels, resolution
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_layers, lr_multiplier)
        self.synthesis = SynthesisNetwork(w_dim, channels, resolution, width)
        self.num_ws = self.synthesis.num_ws
        self.truncation_psi = 1.0
        self.noise_mode = "random"

    def styles(self, z: torch.Tensor, psi: float | None = None) -> torch.Tensor:
        """ws (B, num_ws, w_dim): the same (truncated) w for every layer."""
        if z.dim() != 2 or z.shape[1] != self.z_dim:
            raise ToolkitError(f"this generator takes z of shape (batch, {self.z_dim}), got {tuple(z.shape)}")
        w = truncate(self.mapping(z), self.mapping.w_avg, self.truncation_psi if psi is None else psi)
        return w.unsqueeze(1).repeat(1, self.num_ws, 1)

    def forward(
        self,
        z: torch.Tensor,
        psi: float | None = None,
        z2: torch.Tensor | None = None,
        crossover: int | None = None,
        noise_mode: str | None = None,
    ) -> torch.Tensor:
        ws = self.styles(z, psi)
        if z2 is not None:
            ws = mix_styles(ws, self.styles(z2, psi), self.num_ws if crossover is None else crossover)
        return self.synthesis(ws, self.noise_mode if noise_mode is None else noise_mode)


# ---------------------------------------------------------------------------------------------
# The discriminator: StyleGAN2's residual D, small
# ---------------------------------------------------------------------------------------------


class DiscriminatorBlock(nn.Module):
    """x -> conv3x3, act -> conv3x3, act, 2x2 avg-pool; plus a 1x1 skip of the pooled input; the sum
    times sqrt(1/2) so the two paths' variances add to the input's (StyleGAN2 figure 7c)."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.conv0 = EqualizedConv2d(in_ch, in_ch, 3, padding=1, gain=1.0)
        self.conv1 = EqualizedConv2d(in_ch, out_ch, 3, padding=1, gain=1.0)
        self.skip = EqualizedConv2d(in_ch, out_ch, 1, gain=1.0)  # reference: no bias; ours starts at 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.skip(F.avg_pool2d(x, 2))
        x = act(self.conv0(x))
        x = F.avg_pool2d(act(self.conv1(x)), 2)
        return (x + y) * math.sqrt(0.5)


class StyleGANDiscriminator(nn.Module):
    """``D(x)`` -> one raw score per sample (B,): fromRGB 1x1 at the image's size, residual blocks down
    to 4x4, then minibatch stddev, conv3x3, dense, dense to 1 (the reference's epilogue)."""

    def __init__(self, channels: int = 1, resolution: int = 32, width: int = 64, group_size: int = 4):
        super().__init__()
        self.resolutions = pggan_resolutions(resolution)
        self.channels, self.resolution = channels, resolution
        nf = {r: stage_width(r, width) for r in self.resolutions}
        self.from_rgb = EqualizedConv2d(channels, nf[resolution], 1, gain=1.0)
        self.blocks = nn.Sequential(
            *(DiscriminatorBlock(nf[r], nf[r // 2]) for r in reversed(self.resolutions[1:]))
        )
        self.mbstd = MinibatchStdDev(group_size)
        self.conv = EqualizedConv2d(nf[4] + 1, nf[4], 3, padding=1, gain=1.0)
        self.fc = EqualizedLinear(nf[4] * 16, nf[4])
        self.out = EqualizedLinear(nf[4], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1:] != (self.channels, self.resolution, self.resolution):
            raise ToolkitError(
                f"this discriminator takes images (B, {self.channels}, {self.resolution}, "
                f"{self.resolution}), got {tuple(x.shape)}"
            )
        x = self.blocks(act(self.from_rgb(x)))
        x = act(self.conv(self.mbstd(x)))
        x = act(self.fc(x.flatten(1)))
        return self.out(x).view(-1)
