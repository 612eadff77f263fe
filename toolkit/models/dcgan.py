"""DCGAN (Radford, Metz & Chintala 2015) for 32x32 or 64x64 images with 1 or 3 channels.

The paper's architecture guidelines (section 3), each visible below:
* strided (transposed) convolutions instead of pooling. The paper (Fig. 1) and its code
  (Newmu/dcgan_code) use 5x5 kernels at stride 2; here kernel 4 / stride 2, a kernel the stride divides,
  so the overlap is even and there is no built-in checkerboard (Odena, Dumoulin & Olah 2016,
  "Deconvolution and Checkerboard Artifacts");
* batch norm in G and D, but not on G's output nor on D's input layer;
* ReLU in G with tanh on the output; LeakyReLU(0.2) in D;
* weights initialised from N(0, 0.02).
Plus one tip from the Keras ADA example: dropout before D's last layer. (Adam's beta1 = 0.5 is the
paper's training detail, section 4; it is set in ``families/gan.py``.)

The generator's channel count halves at every doubling of resolution: for 32x32 and width w,
4x4x4w -> 8x8x2w -> 16x16xw -> 32x32xC.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import ToolkitError

RESOLUTIONS = (32, 64)
NORMS = {"batch": nn.BatchNorm2d, "layer": lambda ch: nn.GroupNorm(1, ch), "none": lambda ch: nn.Identity()}


def _check(resolution: int, channels: int | None) -> int:
    """Number of 2x steps for this resolution; ``channels`` None: any count (a D's input may carry
    extra label planes)."""
    if resolution not in RESOLUTIONS:
        raise ToolkitError(
            f"DCGAN supports resolutions {RESOLUTIONS}, got {resolution}; pass --resolution "
            f"{' or '.join(map(str, RESOLUTIONS))} (the toolkit resizes the images for you)"
        )
    if channels is not None and channels not in (1, 3):
        raise ToolkitError(f"DCGAN supports 1 or 3 channels, got {channels}")
    return int(math.log2(resolution)) - 2  # number of 2x up/down-samplings between 4x4 and the image


def dcgan_init(module: nn.Module) -> None:
    """DCGAN section 4: all weights from N(0, 0.02); batch-norm scales from N(1, 0.02)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)) and module.weight is not None:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DCGANGenerator(nn.Module):
    def __init__(self, z_dim: int = 64, channels: int = 1, resolution: int = 32, width: int = 64):
        super().__init__()
        n_up = _check(resolution, channels)
        self.z_dim = z_dim
        ch = width * 2 ** (n_up - 1)
        layers: list[nn.Module] = [
            # project z to a 4x4 map: a transposed conv with a 4x4 kernel on a 1x1 input
            nn.ConvTranspose2d(z_dim, ch, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ch),
            nn.ReLU(True),
        ]
        for _ in range(n_up - 1):
            layers += [
                nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ch // 2),
                nn.ReLU(True),
            ]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, channels, 4, 2, 1), nn.Tanh()]  # no BN on the output
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], self.z_dim, 1, 1))


class DCGANDiscriminator(nn.Module):
    """x -> one raw logit per sample (B,).

    ``norm``: "batch" (DCGAN), "layer" or "none". A WGAN-GP critic must not use batch norm: the
    gradient penalty is defined per sample, and batch norm makes each output depend on the whole
    batch (Gulrajani et al. 2017, section 4); layer norm (GroupNorm with one group) is their choice.

    Split into ``features`` (the conv stack, ending in a ch x 4 x 4 map) and ``head`` (one linear
    score of that map) so that the conditional discriminators can reuse both parts.
    """

    def __init__(
        self,
        channels: int = 1,
        resolution: int = 32,
        width: int = 64,
        dropout: float = 0.3,
        norm: str = "batch",
    ):
        super().__init__()
        n_down = _check(resolution, None)
        if norm not in NORMS:
            raise ToolkitError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")
        ch = width
        layers: list[nn.Module] = [
            nn.Conv2d(channels, ch, 4, 2, 1),
            nn.LeakyReLU(0.2, True),
        ]  # no norm on input
        for _ in range(n_down - 1):
            layers += [
                nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=norm == "none"),
                NORMS[norm](ch * 2),
                nn.LeakyReLU(0.2, True),
            ]
            ch *= 2
        self.features = nn.Sequential(*layers)
        self.feature_dim = ch * 4 * 4
        # dropout before the last layer (Keras ADA tip); then 4x4 -> one logit
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Conv2d(ch, 1, 4, 1, 0))
        self.apply(dcgan_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).view(-1)
