"""Class-conditional GANs on the DCGAN backbone: G(z, y) and D(x, y).

Generators (``mode``):
* "concat" (Mirza & Osindero 2014): the label's embedding is concatenated to z. An embedding is a
  one-hot vector times a learned matrix, so this is the paper's one-hot concatenation.
* "cbn" (conditional batch norm; de Vries et al. 2017, used by Miyato & Koyama 2018): every batch
  norm in G normalises without its own scale/shift and takes gamma(y), beta(y) from the label instead,
  so the label steers every layer, not only the input.

Discriminators:
* :class:`ConditionalDiscriminator` "concat": the label as C one-hot planes stacked on the image.
* :class:`ConditionalDiscriminator` "projection" (Miyato & Koyama 2018, eq. 3):
  D(x, y) = psi(phi(x)) + <embed(y), phi(x)>: an unconditional score plus the inner product of the
  label's embedding with the image features.
* :class:`ACGANDiscriminator` (Odena et al. 2017): sees no label; it returns (real/fake logit,
  class logits) and is trained to name the class of real *and* generated images (eq. 2-3).

When ``y`` is not given, a conditional generator uses the labels 0, 1, ..., C-1, 0, 1, ... so code
written for unconditional generators (evaluation, interpolation) gets a class-balanced batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ToolkitError
from .dcgan import DCGANDiscriminator, DCGANGenerator, _check, dcgan_init


def balanced_labels(n: int, num_classes: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """0, 1, ..., C-1, 0, 1, ...: the labels used when none are given."""
    return torch.arange(n, device=device) % num_classes


def check_labels(y: torch.Tensor | None, n: int, num_classes: int, device) -> torch.Tensor:
    """Integer labels (n,), or *soft* labels (n, C): rows of class weights, e.g. 0.7 * one_hot(a) +
    0.3 * one_hot(b) to interpolate between two classes (see :func:`embed`)."""
    if y is None:
        return balanced_labels(n, num_classes, device)
    if torch.is_tensor(y) and y.is_floating_point() and y.dim() == 2:
        if y.shape != (n, num_classes):
            raise ToolkitError(f"soft labels must have shape ({n}, {num_classes}), got {tuple(y.shape)}")
        return y.to(device)
    y = torch.as_tensor(y, device=device).long().view(-1)
    if y.numel() == 1 and n > 1:
        y = y.expand(n)
    if y.numel() != n:
        raise ToolkitError(f"got {y.numel()} labels for {n} samples")
    # checked on the CPU only: on a GPU this comparison would stop the hot path for a host sync
    if y.device.type == "cpu" and len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise ToolkitError(f"labels must be in 0..{num_classes - 1}, got {y.min().item()}..{y.max().item()}")
    return y


def embed(table: nn.Embedding, y: torch.Tensor) -> torch.Tensor:
    """A label's row of ``table``; for soft labels the weighted mix of rows (one-hot @ table)."""
    return y @ table.weight if y.is_floating_point() else table(y)


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm2d without its own affine parameters, scaled and shifted per label."""

    def __init__(self, channels: int, num_classes: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=False)
        self.gamma = nn.Embedding(num_classes, channels)
        self.beta = nn.Embedding(num_classes, channels)
        nn.init.normal_(self.gamma.weight, 1.0, 0.02)  # starts as plain batch norm (gamma 1, beta 0)
        nn.init.zeros_(self.beta.weight)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return embed(self.gamma, y)[:, :, None, None] * self.bn(x) + embed(self.beta, y)[:, :, None, None]


class ConditionalGenerator(nn.Module):
    def __init__(
        self,
        z_dim: int = 64,
        channels: int = 1,
        resolution: int = 32,
        width: int = 32,
        num_classes: int = 10,
        mode: str = "cbn",
        embed_dim: int = 16,
    ):
        super().__init__()
        if mode not in ("concat", "cbn"):
            raise ToolkitError(f"conditional generator mode must be 'concat' or 'cbn', got {mode!r}")
        if num_classes < 2:
            raise ToolkitError(
                f"a conditional model needs labelled data with >= 2 classes, got {num_classes}"
            )
        self.z_dim, self.num_classes, self.mode = z_dim, num_classes, mode
        if mode == "concat":
            self.embed = nn.Embedding(num_classes, embed_dim)
            # z_dim grows by the label
            self.body = DCGANGenerator(z_dim + embed_dim, channels, resolution, width)
            nn.init.normal_(self.embed.weight, 0.0, 1.0)  # on the scale of z
            return
        n_up = _check(resolution, channels)
        ch = width * 2 ** (n_up - 1)
        self.convs = nn.ModuleList([nn.ConvTranspose2d(z_dim, ch, 4, 1, 0, bias=False)])
        self.norms = nn.ModuleList([ConditionalBatchNorm2d(ch, num_classes)])
        for _ in range(n_up - 1):
            self.convs.append(nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False))
            self.norms.append(ConditionalBatchNorm2d(ch // 2, num_classes))
            ch //= 2
        self.to_image = nn.ConvTranspose2d(ch, channels, 4, 2, 1)
        for m in (*self.convs, self.to_image):
            dcgan_init(m)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        y = check_labels(y, z.shape[0], self.num_classes, z.device)
        if self.mode == "concat":
            return self.body(torch.cat([z, embed(self.embed, y)], dim=1))
        h = z.view(z.shape[0], self.z_dim, 1, 1)
        for conv, norm in zip(self.convs, self.norms):
            h = F.relu(norm(conv(h), y))
        return torch.tanh(self.to_image(h))


class ConditionalDiscriminator(nn.Module):
    def __init__(
        self,
        channels: int = 1,
        resolution: int = 32,
        width: int = 32,
        num_classes: int = 10,
        mode: str = "projection",
        dropout: float = 0.3,
        norm: str = "batch",
    ):
        super().__init__()
        if mode not in ("concat", "projection"):
            raise ToolkitError(
                f"conditional discriminator mode must be 'concat' or 'projection', got {mode!r}"
            )
        self.num_classes, self.mode = num_classes, mode
        in_channels = channels + num_classes if mode == "concat" else channels
        self.body = DCGANDiscriminator(in_channels, resolution, width, dropout, norm)
        if mode == "projection":
            self.embed = nn.Embedding(num_classes, self.body.feature_dim)
            nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if y is None:
            raise ToolkitError(
                "this discriminator is conditional: call it as D(x, y) with one label per image"
            )
        y = check_labels(y, x.shape[0], self.num_classes, x.device)
        if self.mode == "concat":
            planes = F.one_hot(y, self.num_classes).to(x.dtype)[:, :, None, None].expand(-1, -1, *x.shape[2:])
            return self.body(torch.cat([x, planes], dim=1))
        h = self.body.features(x)
        score = self.body.head(h).view(-1)  # psi(phi(x)): "is this a real image at all?"
        return score + (self.embed(y) * h.flatten(1)).sum(1)  # + <embed(y), phi(x)>: "...of class y?"


class ACGANDiscriminator(nn.Module):
    """x -> (real/fake logit (B,), class logits (B, C)). Both heads share the conv features."""

    def __init__(
        self,
        channels: int = 1,
        resolution: int = 32,
        width: int = 32,
        num_classes: int = 10,
        dropout: float = 0.3,
    ):
        super().__init__()
        self.num_classes = num_classes
        self.body = DCGANDiscriminator(channels, resolution, width, dropout)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(self.body.feature_dim, num_classes)
        )

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body.features(x)  # y is accepted and ignored: ACGAN's D must *find* the class
        return self.body.head(h).view(-1), self.classifier(h)
