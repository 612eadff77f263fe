"""The ``cyclegan`` family: unpaired image-to-image translation (Zhu et al. 2017), lesson 10.

Four nets, by name: ``G_AB`` translates A -> B, ``G_BA`` B -> A; ``D_A`` tells real A images from
``G_BA``'s, ``D_B`` real B images from ``G_AB``'s. With no pairs, nothing says which B image an A
image should become; the *cycle* constraint asks that translating there and back returns the input, so
the translation must keep the input's content. Objective (paper eq. 3, with section 5.2's identity term):

    L = L_GAN(G_AB, D_B) + L_GAN(G_BA, D_A)
        + lambda * (E|G_BA(G_AB(a)) - a|_1 + E|G_AB(G_BA(b)) - b|_1)          cycle consistency, lambda = 10
        + lambda * lambda_idt * (E|G_AB(b) - b|_1 + E|G_BA(a) - a|_1)          identity, lambda_idt = 0.5

L_GAN is least squares (section 4: more stable than the log loss): D regresses to 1 on real and 0 on
generated images, G pulls D(G(.)) to 1, and D's loss is halved. D is updated on a pool of 50 past fakes
(``toolkit/image_pool.py``). Generators are ResNets (``toolkit/models/cyclegan.py``), Ds 70x70-style
PatchGANs, both with instance norm. One step, as the reference (junyanz ``cycle_gan_model.py``):
**G** (both generators, one Adam) through the frozen Ds; then **D** (both Ds, one Adam) on the same
reals and the pooled fakes of that G phase.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..config import need, option
from ..errors import ToolkitError
from ..image_pool import ImagePool
from ..losses import cycle_consistency_loss, identity_loss, lsgan_d_loss, lsgan_g_loss
from ..models.cyclegan import ResnetGenerator
from ..models.pix2pix import PatchDiscriminator, init_weights
from .base import D_ACCURACY_CHART, DataSpec, Phase
from .translation import TRANSLATION_DATA_HELP, TranslationConfig, TranslationFamily, side_by_side


@dataclass
class CycleGANConfig(TranslationConfig):
    """Settings of the ``cyclegan`` family: the paper's unless said otherwise (smaller nets for a CPU)."""

    data: str = option("sneaker2boot", f"two image domains: {TRANSLATION_DATA_HELP}")
    steps: int = option(3000, "total training steps")
    batch_size: int = option(8, "images per domain per batch (paper: 1)")
    ema: float = option(0.0, "EMA decay of the generators (CycleGAN keeps none: 0 = off)")
    grid_size: int = option(8, "fixed held-out inputs per domain in each grid: input | translated | back")
    cycle_weight: float = option(10.0, "lambda, the weight of the cycle-consistency loss (paper: 10)")
    identity_weight: float = option(
        0.5, "lambda_idt: the identity loss's weight as a fraction of lambda (paper: 0.5; 0: off)"
    )
    pool_size: int = option(50, "past fakes kept for D's updates (paper: 50; 0: only the newest)")
    width: int = option(32, "channels of G's first layer (paper: 64)")
    blocks: int = option(6, "residual blocks in each G (paper: 9 at 256 px, 6 at 128 px)")
    d_width: int = option(32, "channels of D's first layer (paper: 64)")

    def validate(self) -> "CycleGANConfig":
        super().validate()
        need(self.model == "cyclegan", f"--model {self.model} is not a cyclegan-family model")
        self.validate_translation()
        need(
            self.cycle_weight >= 0 and self.identity_weight >= 0,
            "--cycle-weight and --identity-weight must be >= 0",
        )
        need(self.pool_size >= 0, f"--pool-size must be >= 0, got {self.pool_size}")
        need(
            self.width >= 1 and self.d_width >= 1 and self.blocks >= 0,
            "--width, --d-width >= 1, --blocks >= 0",
        )
        return self


class CycleGANFamily(TranslationFamily):
    name = "cyclegan"
    lesson = 10
    Config = CycleGANConfig
    models = {
        "cyclegan": "CycleGAN (Zhu et al. 2017): unpaired A <-> B translation, two ResNet Gs, two "
        "PatchGAN Ds, cycle + identity + LSGAN losses"
    }
    paired = False
    directions = {"a2b": "G_AB", "b2a": "G_BA"}
    charts = (
        ("Losses", ("loss_g", "loss_d_a", "loss_d_b")),
        (
            "CycleGAN: cycle and identity losses, G's adversarial term",
            ("loss_cycle", "loss_identity", "loss_g_gan"),
        ),
        D_ACCURACY_CHART,
    )
    grid_caption = "rows of held-out input | translated | translated back (A rows, then B rows)"
    bench_cases = (("cyclegan", "cyclegan", {"limit": 256}),)

    @classmethod
    def build_nets(cls, config: CycleGANConfig, spec: DataSpec) -> dict[str, nn.Module]:
        (c_a, h, w), c_b = spec.shape, spec.shape_b[0]
        if h % 4 or w % 4 or h < 16:
            raise ToolkitError(
                f"CycleGAN's generators halve the image twice, so its sides must be multiples of 4 and "
                f"at least 16 pixels; these are {h}x{w}"
            )
        layers = cls.patch_layers(config, spec)

        def G(c_in: int, c_out: int) -> nn.Module:
            return init_weights(ResnetGenerator(c_in, c_out, config.width, config.blocks, "instance"))

        def D(c: int) -> nn.Module:
            return init_weights(PatchDiscriminator(c, config.d_width, layers, "instance"))

        return {"G_AB": G(c_a, c_b), "G_BA": G(c_b, c_a), "D_A": D(c_a), "D_B": D(c_b)}

    def __init__(self, config: CycleGANConfig, data, device, nets=None):
        super().__init__(config, data, device, nets)
        if config.identity_weight and data.shape[0] != data.shape_b[0]:
            raise ToolkitError(
                f"the identity loss feeds each generator images of its target domain, but A has "
                f"{data.shape[0]} channel(s) and B {data.shape_b[0]}: use --identity-weight 0"
            )
        self.G_AB, self.G_BA, self.D_A, self.D_B = (self.nets[k] for k in ("G_AB", "G_BA", "D_A", "D_B"))
        self.optimizers = {
            "G": self.adam(self.G_AB, self.G_BA, lr=config.lr_g),
            "D": self.adam(self.D_A, self.D_B, lr=config.lr_d),
        }
        self.apply_rates()
        self.pool_a, self.pool_b = ImagePool(config.pool_size), ImagePool(config.pool_size)
        self.last: dict[str, torch.Tensor] = {}  # the G phase's reals and fakes, for the D phase

    def phases(self) -> list[Phase]:
        return [
            Phase("G", self.g_step, optimizer="G", nets=("G_AB", "G_BA")),
            Phase(
                "D", self.d_step, optimizer="D", nets=("D_A", "D_B"), needs_batch=False, after=self.advance
            ),
        ]

    def g_step(self, batch: dict) -> tuple[torch.Tensor, dict]:
        c = self.config
        a, b = batch["A"], batch["B"]
        fake_b, fake_a = self.G_AB(a), self.G_BA(b)
        gan = lsgan_g_loss(self.D_B(fake_b)) + lsgan_g_loss(self.D_A(fake_a))
        cycle = cycle_consistency_loss(a, self.G_BA(fake_b)) + cycle_consistency_loss(b, self.G_AB(fake_a))
        loss = gan + c.cycle_weight * cycle
        stats = {"loss_g_gan": gan.detach(), "loss_cycle": cycle.detach()}
        if c.identity_weight:
            idt = identity_loss(b, self.G_AB(b)) + identity_loss(a, self.G_BA(a))
            loss = loss + c.cycle_weight * c.identity_weight * idt
            stats["loss_identity"] = idt.detach()
        self.last = {"A": a, "B": b, "fake_A": fake_a.detach(), "fake_B": fake_b.detach()}
        stats["loss_g"] = loss.detach()
        return loss, stats

    def d_step(self, batch: None) -> tuple[torch.Tensor, dict]:
        r = self.last
        real_a, real_b = self.D_A(r["A"]), self.D_B(r["B"])
        fake_a, fake_b = self.D_A(self.pool_a.query(r["fake_A"])), self.D_B(self.pool_b.query(r["fake_B"]))
        loss_a, loss_b = 0.5 * lsgan_d_loss(real_a, fake_a), 0.5 * lsgan_d_loss(real_b, fake_b)
        # LSGAN's D regresses to 1 (real) and 0 (fake): "right" means on the right side of 0.5
        right_real = torch.cat([(real_a > 0.5).flatten(), (real_b > 0.5).flatten()]).float().mean()
        right_fake = torch.cat([(fake_a < 0.5).flatten(), (fake_b < 0.5).flatten()]).float().mean()
        return loss_a + loss_b, {
            "loss_d_a": loss_a.detach(),
            "loss_d_b": loss_b.detach(),
            "d_real_acc": right_real,
            "d_fake_acc": right_fake,
        }

    def grid(self) -> tuple[torch.Tensor, int | None]:
        """Rows for the fixed A inputs (a | G_AB(a) | G_BA(G_AB(a))), then for the B inputs."""
        a, b = self.fixed_a, self.fixed_b
        to_b, to_a = self.translate(a, "a2b"), self.translate(b, "b2a")
        back_a, back_b = self.translate(to_b, "b2a"), self.translate(to_a, "a2b")
        rows_a, n = side_by_side(a, to_b, back_a)
        rows_b, _ = side_by_side(b, to_a, back_b)
        return torch.cat([rows_a, rows_b]), n

    def state_dict(self) -> dict:
        return {
            **super().state_dict(),
            "pool_A": self.pool_a.state_dict(),
            "pool_B": self.pool_b.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.pool_a.load_state_dict(state["pool_A"], self.device)
        self.pool_b.load_state_dict(state["pool_B"], self.device)
