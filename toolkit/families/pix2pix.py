"""The ``pix2pix`` family: paired image-to-image translation (Isola et al. 2017), lesson 09.

Objective (paper eq. 4), with x the input (domain A), y its target (domain B):

    G* = arg min_G max_D  L_cGAN(G, D) + lambda * L_L1(G)
    L_cGAN = E[log D(x, y)] + E[log(1 - D(x, G(x)))]      D sees the input beside the output
    L_L1   = E[|y - G(x)|_1]                               lambda = 100

L1 alone gets the low frequencies right and blurs the rest (it is minimised by the median of the
plausible outputs); the conditional PatchGAN D (``toolkit/models/pix2pix.py``) penalises what is not
sharp and realistic at the scale of its patches. G is a U-Net. There is no noise input: the paper found
G ignored it; dropout is its only randomness.

One step, as the reference (junyanz ``pix2pix_model.py``): **D** on (x, y) vs (x, G(x)), its loss halved
(so D learns more slowly than G); then **G** on the same batch through the updated D, with the
non-saturating loss. ``gan_weight 0`` is the L1-only baseline (no D update at all).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..config import need, option
from ..errors import ToolkitError
from ..losses import bce_d_loss, l1_loss, nonsaturating_g_loss
from ..models.pix2pix import PatchDiscriminator, UNetGenerator, init_weights
from .base import D_ACCURACY_CHART, LOSSES_CHART, DataSpec, Phase
from .translation import TRANSLATION_DATA_HELP, TranslationConfig, TranslationFamily, side_by_side


@dataclass
class Pix2PixConfig(TranslationConfig):
    """Settings of the ``pix2pix`` family: the paper's unless said otherwise (widths halved for a CPU)."""

    data: str = option("edges2fashion", f"paired data: {TRANSLATION_DATA_HELP}")
    steps: int = option(2000, "total training steps")
    batch_size: int = option(16, "pairs per batch (paper: 1; larger runs faster on a CPU)")
    ema: float = option(0.0, "EMA decay of G (pix2pix keeps none: 0 = off)")
    grid_size: int = option(8, "fixed held-out inputs in each grid, one row each: input | output | target")
    l1_weight: float = option(100.0, "lambda, the weight of L1 (paper: 100)")
    gan_weight: float = option(1.0, "weight of the adversarial term (0: L1 only, the blurry baseline)")
    skips: bool = option(True, "U-Net skip connections (off: the paper's encoder-decoder ablation)")
    dropout: bool = option(True, "dropout 0.5 in G's widest middle blocks (none exist below 64 px)")
    norm: str = option("batch", "normalisation in G and D (paper: batch)", choices=("batch", "instance"))
    width: int = option(32, "channels of G's first layer (paper: 64)")
    d_width: int = option(32, "channels of D's first layer (paper: 64)")

    def validate(self) -> "Pix2PixConfig":
        super().validate()
        need(self.model == "pix2pix", f"--model {self.model} is not a pix2pix-family model")
        self.validate_translation()
        need(self.l1_weight >= 0 and self.gan_weight >= 0, "--l1-weight and --gan-weight must be >= 0")
        need(self.l1_weight > 0 or self.gan_weight > 0, "--l1-weight and --gan-weight cannot both be 0")
        need(self.width >= 1 and self.d_width >= 1, "--width and --d-width must be >= 1")
        return self


class Pix2PixFamily(TranslationFamily):
    name = "pix2pix"
    lesson = 9
    Config = Pix2PixConfig
    models = {
        "pix2pix": "pix2pix (Isola et al. 2017): paired A -> B translation, U-Net G + PatchGAN D, L1 + GAN"
    }
    paired = True
    directions = {"a2b": "G"}
    charts = (
        LOSSES_CHART,
        ("pix2pix: L1 to the target, G's adversarial term", ("loss_l1", "loss_g_gan")),
        D_ACCURACY_CHART,
    )
    grid_caption = "rows of held-out input | output | target"
    bench_cases = (("pix2pix", "pix2pix", {"limit": 256}),)

    @classmethod
    def build_nets(cls, config: Pix2PixConfig, spec: DataSpec) -> dict[str, nn.Module]:
        (c_a, h, w), c_b = spec.shape, spec.shape_b[0]
        if h != w or h < 32 or h & (h - 1):
            raise ToolkitError(
                f"pix2pix's U-Net halves the image down to 1x1, so training images must be square with a "
                f"side of 32, 64, 128, 256, ... pixels; these are {h}x{w} (use --resolution 32 or 64)"
            )
        num_downs = h.bit_length() - 1  # log2(H): a 1x1 bottleneck
        G = UNetGenerator(c_a, c_b, num_downs, config.width, config.norm, config.dropout, config.skips)
        D = PatchDiscriminator(c_a + c_b, config.d_width, cls.patch_layers(config, spec), config.norm)
        return {"G": init_weights(G), "D": init_weights(D)}

    def __init__(self, config: Pix2PixConfig, data, device, nets=None):
        super().__init__(config, data, device, nets)
        self.G, self.D = self.nets["G"], self.nets["D"]
        self.optimizers = {"G": self.adam(self.G, lr=config.lr_g), "D": self.adam(self.D, lr=config.lr_d)}
        self.apply_rates()
        self.batch: dict | None = None

    def phases(self) -> list[Phase]:
        g = Phase("G", self.g_step, optimizer="G", nets=("G",), after=self.advance)
        if not self.config.gan_weight:
            return [g]  # L1 only: no discriminator in the game
        g.needs_batch = False  # G trains on D's batch
        return [Phase("D", self.d_step, optimizer="D", nets=("D",)), g]

    def d_step(self, batch: dict) -> tuple[torch.Tensor, dict]:
        self.batch = batch
        a, b = batch["A"], batch["B"]
        with torch.no_grad():
            fake = self.G(a)
        d_real = self.D(torch.cat([a, b], 1))  # conditional D: the input beside the output
        d_fake = self.D(torch.cat([a, fake], 1))
        loss = 0.5 * bce_d_loss(d_real, d_fake)  # halved, as the paper: D learns slower than G
        return loss, {
            "loss_d": loss.detach(),
            "d_real_acc": (d_real > 0).float().mean(),
            "d_fake_acc": (d_fake < 0).float().mean(),
        }

    def g_step(self, batch: dict | None) -> tuple[torch.Tensor, dict]:
        batch = batch if batch is not None else self.batch
        a, b = batch["A"], batch["B"]
        fake = self.G(a)
        l1 = l1_loss(fake, b)
        loss = self.config.l1_weight * l1
        stats = {"loss_l1": l1.detach()}
        if self.config.gan_weight:
            gan = nonsaturating_g_loss(self.D(torch.cat([a, fake], 1)))
            loss = loss + self.config.gan_weight * gan
            stats["loss_g_gan"] = gan.detach()
        stats["loss_g"] = loss.detach()
        return loss, stats

    def grid(self) -> tuple[torch.Tensor, int | None]:
        """One row per fixed held-out input: input | output | target."""
        return side_by_side(self.fixed_a, self.translate(self.fixed_a), self.fixed_b)
