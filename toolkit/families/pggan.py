"""The ``pggan`` family: progressive growing with fade-in (Karras et al. 2018), lesson 08.

G and D start at 4x4; every stage adds a resolution (4 -> 8 -> ... -> the data's size). A new
resolution is first *faded in*: for ``fade_kimg`` thousand images alpha goes 0 -> 1 (the weight of
the new block, paper figure 2), then it trains *stable* (alpha = 1) for ``stage_kimg``. The schedule
is a pure function of the number of images seen (:func:`stage_at`), which the family counts and saves,
so stage and alpha resume exactly. The networks are ``toolkit/models/pggan.py``.

Objective: WGAN-GP (Gulrajani et al. 2017) with the paper's drift term (appendix A.1):

    L_D = E[D(G(z))] - E[D(x)] + lambda * E[(||grad D(x_hat)||_2 - 1)^2] + epsilon_drift * E[D(x)^2]
    L_G = -E[D(G(z))]

with lambda = 10 and epsilon_drift = 0.001, which keeps D's output from drifting far from zero.
The reals D sees are shown at the current resolution and faded like G's output
(tkarras train.py ``process_reals``), so D never tells real from fake by sharpness alone.
Adam (lr 1e-3, betas (0, 0.99)) is restarted when a new resolution begins, as in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..config import need, need_at_least, need_learning_rate, need_positive, option
from ..errors import ToolkitError
from ..losses import wasserstein_d_loss, wasserstein_g_loss
from ..models.pggan import PGGANDiscriminator, PGGANGenerator, fade_in, pggan_resolutions
from ..regularizers import gradient_penalty
from .base import LOSSES_CHART, WGAN_CHART, DataSpec, Family, Phase
from .measurements import (
    FID_CHART,
    KID_CHART,
    MEASURED_RESUMABLE,
    OVERFITTING_CHART,
    MeasuredConfig,
    measuring_callbacks,
)


def stage_at(kimg: float, resolutions: list[int], stage_kimg: float, fade_kimg: float) -> tuple[int, float]:
    """(resolution, alpha) after ``kimg`` thousand images: resolutions[0] stable for ``stage_kimg``, then
    for each next resolution a fade-in of ``fade_kimg`` (alpha 0 -> 1) and a stable phase of
    ``stage_kimg``. Counted in whole images, so a phase ends exactly where it should (no rounding drift)."""
    t, stage, fade = round(kimg * 1000), round(stage_kimg * 1000), round(fade_kimg * 1000)
    if t < stage:
        return resolutions[0], 1.0
    t -= stage
    for r in resolutions[1:]:
        if t < fade:
            return r, t / fade
        t -= fade
        if t < stage:
            return r, 1.0
        t -= stage
    return resolutions[-1], 1.0


def reals_at(x: torch.Tensor, resolution: int, alpha: float) -> torch.Tensor:
    """Real images as D sees them at a stage: box-downsampled to ``resolution`` and, during a fade-in,
    blended with their own lower-resolution version by the same alpha as G's output."""
    if x.shape[-1] > resolution:
        x = F.avg_pool2d(x, x.shape[-1] // resolution)
    if alpha < 1.0:
        x = fade_in(F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="nearest"), x, alpha)
    return x


class StageGenerator(nn.Module):
    """A trained PGGAN generator at one stage, as a plain ``z -> image`` module: its output is upsampled
    (nearest) to the final resolution, so samples of every stage have the data's size."""

    def __init__(self, G: PGGANGenerator, resolution: int, alpha: float):
        super().__init__()
        self.G, self.resolution, self.alpha = G, resolution, alpha

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.G(z, self.resolution, self.alpha)
        if x.shape[-1] < self.G.max_resolution:
            x = F.interpolate(x, size=self.G.max_resolution, mode="nearest")
        return x


@dataclass
class PGGANConfig(MeasuredConfig):
    """Settings of the ``pggan`` family. The paper's values unless said otherwise."""

    steps: int = option(3000, "total training steps")
    ema: float = option(0.999, "EMA decay of the sampling generator (the paper's Gs: 0.999); 0 = off")
    lr_g: float = option(1e-3, "generator learning rate (paper: 1e-3)")
    lr_d: float = option(1e-3, "discriminator learning rate (paper: 1e-3)")
    beta1: float = option(0.0, "Adam beta1 (paper: 0)")
    beta2: float = option(0.99, "Adam beta2 (paper: 0.99)")
    gp_weight: float = option(10.0, "lambda of the gradient penalty (paper: 10)")
    drift: float = option(0.001, "epsilon_drift: weight of E[D(x)^2] in D's loss (paper: 0.001)")
    stage_kimg: float = option(
        24.0, "thousand images per stable phase (paper: 600; short CPU runs need fewer)"
    )
    fade_kimg: float = option(24.0, "thousand images per fade-in (paper: 600; 0: grow without fading)")
    start_resolution: int = option(
        4,
        "resolution training starts at (the paper: 4); the data's size trains a "
        "fixed-resolution network of the same final architecture, the baseline",
    )
    z_dim: int = option(128, "size of the latent vector z (paper: 512)")
    width: int = option(64, "channels per stage up to 32x32, halved at each doubling above (paper: 512)")

    def validate(self) -> "PGGANConfig":
        super().validate()
        need(self.model == "pggan", f"--model {self.model} is not a pggan-family model")
        need_learning_rate(self, "lr_g", "lr_d")
        need_positive(self, "stage_kimg")
        need(
            0 <= self.beta1 < 1 and 0 <= self.beta2 < 1,
            f"Adam betas must be in [0, 1), got {self.beta1}, {self.beta2}",
        )
        need_at_least(self, 0, "gp_weight", "drift", "fade_kimg", off=True)
        need(self.z_dim >= 1 and self.width >= 1, "--z-dim and --width must be >= 1")
        return self


class PGGANFamily(Family):
    name = "pggan"
    lesson = 8
    Config = PGGANConfig
    models = {
        "pggan": "PGGAN (Karras et al. 2018): G and D grow 4x4 -> the data's size, each new resolution "
        "faded in; WGAN-GP loss with drift"
    }
    ema_nets = ("G",)
    steerable = ("lr_g", "lr_d")
    resumable = (*steerable, "beta1", "beta2", *MEASURED_RESUMABLE)
    charts = (
        LOSSES_CHART,
        OVERFITTING_CHART,
        WGAN_CHART,
        FID_CHART,
        KID_CHART,
        ("PGGAN fade-in", ("alpha", "resolution")),
    )
    collapse_alarm = True
    bench_cases = (("pggan (at 32x32)", "pggan", {"stage_kimg": 0.001, "fade_kimg": 0.001}),)
    bench_warmup = 8  # past its growth (1 image per stage) to full size

    @classmethod
    def callbacks(cls, config: PGGANConfig) -> list:
        return measuring_callbacks(config)

    @classmethod
    def build_nets(cls, config: PGGANConfig, spec: DataSpec) -> dict[str, nn.Module]:
        if spec.kind != "images" or len(spec.shape) != 3 or spec.shape[1] != spec.shape[2]:
            raise ToolkitError(f"pggan needs square images, but the data has samples of shape {spec.shape}")
        channels, resolution = spec.shape[0], spec.shape[1]
        if resolution < 8 or resolution & (resolution - 1):
            raise ToolkitError(
                f"pggan grows from 4x4 by doubling, so the images must be 8, 16, 32, 64, ... "
                f"pixels; these are {resolution} (use --resolution 32 or 64)"
            )
        return {
            "G": PGGANGenerator(config.z_dim, channels, resolution, config.width),
            "D": PGGANDiscriminator(channels, resolution, config.width),
        }

    def __init__(self, config: PGGANConfig, data, device, nets=None):
        super().__init__(config, data, device, nets)
        self.G, self.D = self.nets["G"], self.nets["D"]
        allowed = pggan_resolutions(self.G.max_resolution)
        if config.start_resolution not in allowed:
            raise ToolkitError(
                f"--start-resolution must be one of {', '.join(map(str, allowed))} for these images, "
                f"got {config.start_resolution}"
            )
        self.resolutions = [r for r in allowed if r >= config.start_resolution]
        self.images_seen = 0
        self.resolution, self.alpha = self.stage()
        self.optimizers = self.new_optimizers()
        # its own generator: drawing the fixed latents never moves the training RNG
        g = torch.Generator().manual_seed(config.seed + 2**20)
        self.fixed_z = torch.randn(config.grid_size, config.z_dim, generator=g).to(device)

    def stage(self) -> tuple[int, float]:
        c = self.config
        return stage_at(self.images_seen / 1000, self.resolutions, c.stage_kimg, c.fade_kimg)

    def new_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = (self.config.beta1, self.config.beta2)
        return {
            "G": torch.optim.Adam(self.G.parameters(), lr=self.config.lr_g, betas=betas, eps=1e-8),
            "D": torch.optim.Adam(self.D.parameters(), lr=self.config.lr_d, betas=betas, eps=1e-8),
        }

    # --- the two phases --------------------------------------------------------------------------
    def phases(self) -> list[Phase]:
        return [
            Phase("D", self.d_step, optimizer="D", nets=("D",)),
            Phase("G", self.g_step, optimizer="G", nets=("G",), needs_batch=False, after=self.advance),
        ]

    def d_step(self, batch: dict) -> tuple[torch.Tensor, dict]:
        cfg, res, alpha = self.config, self.resolution, self.alpha
        real = reals_at(batch["image"], res, alpha)
        with torch.no_grad():
            fake = self.G(self.noise(real.shape[0]), res, alpha)
        d_real, d_fake = self.D(real, alpha), self.D(fake, alpha)
        loss = wasserstein_d_loss(d_real, d_fake)
        stats = {}
        if cfg.gp_weight:
            gp, norms = gradient_penalty(lambda x: self.D(x, alpha), real, fake, cfg.gp_weight)
            loss = loss + gp
            stats["gp"], stats["grad_norm"] = gp.detach(), norms.mean()
        loss = loss + cfg.drift * d_real.pow(2).mean()  # keeps D(x) near 0 (paper appendix A.1)
        stats.update(loss_d=loss.detach(), w_estimate=(d_real.mean() - d_fake.mean()).detach())
        return loss, stats

    def g_step(self, batch: None) -> tuple[torch.Tensor, dict]:
        fake = self.G(self.noise(self.config.batch_size), self.resolution, self.alpha)
        loss = wasserstein_g_loss(self.D(fake, self.alpha))
        return loss, {
            "loss_g": loss.detach(),
            "resolution": torch.tensor(float(self.resolution)),
            "alpha": torch.tensor(self.alpha),
        }

    def advance(self) -> None:
        """After each step: count the images, move the schedule on; a new resolution restarts Adam."""
        self.images_seen += self.config.batch_size
        resolution, self.alpha = self.stage()
        if resolution != self.resolution:
            self.resolution, self.optimizers = resolution, self.new_optimizers()

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.config.z_dim, device=self.device)

    # --- samples -----------------------------------------------------------------------------------
    @property
    def generator(self) -> nn.Module:
        """The generator at the current stage (EMA weights when kept), as ``z -> image`` at full size."""
        return StageGenerator(self.sampling_net("G"), self.resolution, self.alpha)

    @torch.no_grad()
    def sample(self, z: torch.Tensor | None = None, n: int = 64, use_ema: bool = True) -> torch.Tensor:
        """Images at the current stage, upsampled (nearest) to the final size, on the CPU."""
        G = StageGenerator(self.sampling_net("G") if use_ema else self.G, self.resolution, self.alpha)
        was_training = G.G.training
        G.eval()
        out = G(z.to(self.device) if z is not None else self.noise(n))
        G.G.train(was_training)
        return out.float().cpu()

    def grid(self) -> tuple[torch.Tensor, int | None]:
        return self.sample(self.fixed_z), None

    @classmethod
    def sampler(cls, nets: dict[str, nn.Module], config: dict, family_state: dict) -> nn.Module:
        return StageGenerator(nets["G"], int(family_state["resolution"]), float(family_state["alpha"]))

    # --- steering and state ----------------------------------------------------------------------
    def apply_settings(self, settings: dict) -> None:
        if "beta1" in settings or "beta2" in settings:
            self.set_betas()
        for key, name in (("lr_g", "G"), ("lr_d", "D")):
            if key in settings:
                self.set_lr(self.optimizers[name], settings[key])

    def state_dict(self) -> dict:
        return {"images_seen": self.images_seen, "resolution": self.resolution, "alpha": self.alpha}

    def load_state_dict(self, state: dict) -> None:
        self.images_seen = int(state["images_seen"])
        self.resolution, self.alpha = self.stage()
