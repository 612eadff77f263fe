"""The ``srgan`` family: single-image super-resolution (Ledig et al. 2017), lesson 11.

Two models share the generator (an SRResNet, ``toolkit/models/srgan.py``) and differ in the objective.
With x the low-resolution input, y the original and phi a frozen backbone's features (``--backbone``):

    srresnet:  l = l_pixel                      = E|G(x) - y|^2  (or |.|_1 with --pixel-loss l1)
    srgan:     l = l_content + 1e-3 * l_adv     (paper eq. 3: the "perceptual loss" of SRGAN)
               l_content = E||phi(G(x)) - phi(y)||^2 / (C H W)    (VGG19 relu5_4 in the paper: "VGG54")
               l_adv     = -log D(G(x))                           (non-saturating; D is the SRGAN D)

Why both: many high-resolution images shrink to the same small one, and a pixel loss is minimised by
their *average*, which is blurry; SRResNet gets the best PSNR that way. SRGAN's D penalises outputs that do
not look like real high-resolution images, and its content loss only asks the features to match, so it
can choose one sharp answer: lower PSNR, more fine detail, closer in a perceptual distance (lesson 11
measures all three).

As in the paper, an SRGAN starts best from a trained SRResNet (``--init-from RUN_DIR``), so the
adversarial game refines sharp detail instead of discovering the image. Weights default to the paper's:
Adam(1e-4, 0.9, 0.999), content 1, adversarial 1e-3, no pixel term. The paper scales VGG features by 1/12.75
(a content weight of ~0.006 on raw VGG features); with ``--backbone vgg19`` give ``--content-weight 0.006``
to match it. The toolkit's offline backbone's features are of order 1, for which weight 1 is right.

One step: **D** on (y, G(x)) (when the adversarial weight is above 0), then **G** on the same batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..backbones import BACKBONES, load_backbone
from ..config import POSITIVE, RunConfig, need, need_learning_rate, need_objective, option
from ..data.super_resolution import SR_DATASETS, bicubic_upscale, load_super_resolution
from ..errors import ToolkitError
from ..losses import bce_d_loss, l1_loss, nonsaturating_g_loss
from ..models.srgan import SRDiscriminator, SRResNet
from ..runs import Run
from .base import D_ACCURACY_CHART, LOSSES_CHART, SHRUNK_IMAGES, DataSpec, Phase
from .translation import TranslationFamily, side_by_side

SR_DATA_HELP = f"{', '.join(SR_DATASETS)}, or a folder/.zip of your own high-resolution images"

# What tells the two models apart (their presets set it); a config without it trains the other one
OBJECTIVES = {
    "srresnet": ("a pixel or content loss with no discriminator", {"adversarial_weight": 0.0}),
    "srgan": ("a content loss plus an adversarial term", {"adversarial_weight": POSITIVE}),
}


@dataclass
class SRGANConfig(RunConfig):
    """Settings of the ``srgan`` family: the paper's unless said otherwise."""

    data: str = option("fashion-mnist", f"high-resolution images: {SR_DATA_HELP}")
    resolution: int | None = option(
        None, "high-resolution side (fashion-mnist: 28; photos: 128; folders: 96, the paper's crops)"
    )
    scale: int = option(4, "upscaling factor: 2, 4 (paper) or 8", choices=(2, 4, 8))
    steps: int = option(2000, "total training steps")
    batch_size: int = option(16, "image pairs per batch (paper: 16)")
    ema: float = option(0.0, "EMA decay of G (the paper keeps none: 0 = off)")
    grid_size: int = option(
        8, "held-out images in each grid, one row each: input | bicubic | output | original"
    )
    lr_g: float = option(1e-4, "generator learning rate (paper: 1e-4)")
    lr_d: float = option(1e-4, "discriminator learning rate (paper: 1e-4)")
    beta1: float = option(0.9, "Adam beta1 (paper: 0.9)")
    beta2: float = option(0.999, "Adam beta2")
    lr_decay: float = option(0.0, "fraction of the run at its end over which the rates fall linearly to 0")
    blocks: int = option(16, "residual blocks in G (paper: 16)")
    width: int = option(64, "channels in G's residual blocks (paper: 64)")
    d_width: int = option(64, "channels of D's first layer (paper: 64)")
    pixel_loss: str = option("mse", "the pixel term: mse (the paper's SRResNet) or l1", choices=("mse", "l1"))
    pixel_weight: float = option(1.0, "weight of the pixel term")
    content_weight: float = option(0.0, "weight of the content (feature) loss")
    adversarial_weight: float = option(0.0, "weight of the adversarial term (paper's SRGAN: 1e-3)")
    backbone: str = option("fmnist-cnn", "feature network of the content loss", choices=tuple(BACKBONES))
    backbone_weights: str = option(
        "", "weight file of --backbone (default: its usual place, see backbones.py)"
    )
    content_layer: str = option("", "backbone layer of the content loss (default: the deepest, e.g. relu5_4)")
    init_from: str = option("", "start G from this srresnet run's weights (the paper's SRGAN starts so)")

    def validate(self) -> "SRGANConfig":
        super().validate()
        need(self.model in ("srresnet", "srgan"), f"--model {self.model} is not an srgan-family model")
        need_learning_rate(self, "lr_g", "lr_d")
        need(
            0 <= self.beta1 < 1 and 0 <= self.beta2 < 1,
            f"Adam betas must be in [0, 1), got {self.beta1}, {self.beta2}",
        )
        need(0 <= self.lr_decay <= 1, f"--lr-decay is a fraction of the run, in [0, 1]; got {self.lr_decay}")
        need(self.scale in (2, 4, 8), f"--scale must be 2, 4 or 8, got {self.scale}")
        need(
            self.blocks >= 1 and self.width >= 1 and self.d_width >= 1,
            "--blocks, --width, --d-width must be >= 1",
        )
        for name in ("pixel_weight", "content_weight", "adversarial_weight"):
            need(getattr(self, name) >= 0, f"--{name.replace('_', '-')} must be >= 0")
        need(
            self.pixel_weight + self.content_weight > 0,
            "--pixel-weight and --content-weight cannot both be 0: G would have no target to match",
        )
        need_objective(self, *OBJECTIVES[self.model])  # after the values' own checks
        return self


class SRGANFamily(TranslationFamily):
    name = "srgan"
    lesson = 11
    Config = SRGANConfig
    models = {
        "srresnet": "SRResNet (Ledig et al. 2017): super-resolution by a pixel loss (best PSNR, blurry)",
        "srgan": "SRGAN (Ledig et al. 2017): SRResNet + content loss on a frozen network + 1e-3 adversarial",
    }
    presets = {
        "srresnet": {},
        "srgan": {"pixel_weight": 0.0, "content_weight": 1.0, "adversarial_weight": 1e-3},
    }
    paired = True
    directions = {"a2b": "G"}
    steerable = ("lr_g", "lr_d")
    resumable = (*steerable, "beta1", "beta2", "lr_decay")
    charts = (
        LOSSES_CHART,
        (
            "Super-resolution: pixel and content losses, G's adversarial term",
            ("loss_pixel", "loss_content", "loss_g_gan"),
        ),
        ("Super-resolution: PSNR of the batch (dB)", ("psnr",)),
        D_ACCURACY_CHART,
    )
    grid_caption = "rows of held-out input (enlarged) | bicubic | output | original"
    trains_on = SHRUNK_IMAGES
    datasets = SR_DATASETS
    bench_cases = (("srgan", "srgan", {"limit": 256}),)

    # --- data ----------------------------------------------------------------------------------
    @classmethod
    def load_data(cls, config):
        return load_super_resolution(
            config.data,
            resolution=config.resolution,
            scale=config.scale,
            limit=config.limit,
            seed=config.seed,
        )

    @classmethod
    def check_data(cls, config, data) -> None:
        if getattr(data, "kind", None) != "super-resolution":
            raise ToolkitError(
                f"--model {config.model} learns to upscale; give --data {SR_DATA_HELP} (got {data.name})"
            )

    # --- nets ----------------------------------------------------------------------------------
    @classmethod
    def build_nets(cls, config: SRGANConfig, spec: DataSpec) -> dict[str, nn.Module]:
        channels = spec.shape[0]
        nets = {"G": SRResNet(channels, config.scale, config.blocks, config.width)}
        if config.adversarial_weight > 0:
            nets["D"] = SRDiscriminator(channels, config.d_width)
        return nets

    def __init__(self, config: SRGANConfig, data, device, nets=None):
        super().__init__(config, data, device, nets)
        if nets is None and config.init_from:
            self.start_from(config.init_from)
        self.G = self.nets["G"]
        self.D = self.nets.get("D")
        self.optimizers = {"G": self.adam(self.G, lr=config.lr_g)}
        if self.D is not None:
            self.optimizers["D"] = self.adam(self.D, lr=config.lr_d)
        self.apply_rates()
        self.backbone = None
        if config.content_weight > 0:
            self.backbone = load_backbone(config.backbone, device, config.backbone_weights or None)
            self.content_layer = config.content_layer or self.backbone.deepest
            self.backbone(data.b[:1].to(device), [self.content_layer])  # an unknown layer fails now
        self.batch: dict | None = None

    def start_from(self, run_dir: str) -> None:
        """Load G's weights from a trained srresnet (or srgan) run with the same architecture."""
        run = Run(run_dir)
        if not run.dir.is_dir():
            raise ToolkitError(f"run directory {run.dir} does not exist")
        config, state = run.config(), run.load_checkpoint("cpu")
        if config.get("model") not in self.models:
            raise ToolkitError(f"--init-from {run_dir} is a {config.get('model')} run; give an srresnet run")
        weights = state["ema"].get("G")  # the EMA copy where the run kept one (as sampling takes it)
        try:
            self.nets["G"].load_state_dict(weights if weights is not None else state["nets"]["G"])
        except (RuntimeError, KeyError):
            raise ToolkitError(
                f"--init-from {run_dir}: its G (blocks {config['blocks']}, width {config['width']}, scale "
                f"{config['scale']}) differs from this one's; give the same --blocks, --width and --scale"
            ) from None

    def apply_rates(self) -> None:
        from .translation import linear_decay_factor

        c = self.config
        factor = linear_decay_factor(self.steps_done, c.steps, round(c.lr_decay * c.steps))
        self.set_lr(self.optimizers["G"], c.lr_g * factor)
        if "D" in self.optimizers:
            self.set_lr(self.optimizers["D"], c.lr_d * factor)

    # --- the step ------------------------------------------------------------------------------
    def phases(self) -> list[Phase]:
        g = Phase("G", self.g_step, optimizer="G", nets=("G",), after=self.advance)
        if self.D is None:
            return [g]  # srresnet: no discriminator in the game
        g.needs_batch = False  # G trains on D's batch
        return [Phase("D", self.d_step, optimizer="D", nets=("D",)), g]

    def d_step(self, batch: dict) -> tuple[torch.Tensor, dict]:
        self.batch = batch
        with torch.no_grad():
            fake = self.G(batch["A"])
        d_real, d_fake = self.D(batch["B"]), self.D(fake)
        loss = bce_d_loss(d_real, d_fake)
        return loss, {
            "loss_d": loss.detach(),
            "d_real_acc": (d_real > 0).float().mean(),
            "d_fake_acc": (d_fake < 0).float().mean(),
        }

    def g_step(self, batch: dict | None) -> tuple[torch.Tensor, dict]:
        batch = batch if batch is not None else self.batch
        low, high = batch["A"], batch["B"]
        c = self.config
        fake = self.G(low)
        mse = (fake - high).pow(2).mean()
        stats = {"psnr": 10 * torch.log10(4.0 / mse.detach().clamp_min(1e-10))}  # [-1, 1] images: range 2
        loss = 0.0
        if c.pixel_weight > 0:
            pixel = mse if c.pixel_loss == "mse" else l1_loss(fake, high)
            loss = loss + c.pixel_weight * pixel
            stats["loss_pixel"] = pixel.detach()
        if c.content_weight > 0:
            layer = [self.content_layer]
            with torch.no_grad():
                target = self.backbone(high, layer)[self.content_layer]
            content = (self.backbone(fake, layer)[self.content_layer] - target).pow(2).mean()
            loss = loss + c.content_weight * content
            stats["loss_content"] = content.detach()
        if self.D is not None:
            adv = nonsaturating_g_loss(self.D(fake))
            loss = loss + c.adversarial_weight * adv
            stats["loss_g_gan"] = adv.detach()
        stats["loss_g"] = loss.detach()
        return loss, stats

    # --- samples -------------------------------------------------------------------------------
    def grid(self) -> tuple[torch.Tensor, int | None]:
        """One row per fixed held-out image: input (enlarged, blocky) | bicubic | output | original."""
        s = self.config.scale
        low = self.fixed_a.cpu()
        blocky = low.repeat_interleave(s, -1).repeat_interleave(s, -2)
        return side_by_side(
            blocky, bicubic_upscale(low, s), self.translate(self.fixed_a).clamp(-1, 1), self.fixed_b
        )
