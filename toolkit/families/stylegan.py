"""The ``stylegan`` family: StyleGAN2 (Karras et al. 2020), small, with ADA (Karras et al. 2020b), lesson 14.

The networks are ``toolkit/models/stylegan.py``. The objective is stylegan2-ada's ``StyleGAN2Loss``
(``training/loss.py``), without path-length regularisation:

    L_G = E_z[softplus(-D(A(G(z))))]                                   (non-saturating, Goodfellow et al.)
    L_D = E_z[softplus(D(A(G(z))))] + E_x[softplus(-D(A(x)))]           (D main)
          + k * gamma/2 * E_x[||grad_x D(A(x))||^2]   every k-th step   (D reg: lazy R1, Mescheder et al.)

where A is what D sees (nothing, ADA or DiffAugment, as in the gan family). One training step has three
phases, each one optimizer update (the reference's Gmain, Dmain, Dreg, in the order D, D reg, G):

* **D**: the real batch and a generated one (G's styles mixed with probability ``mixing``); then ADA's
  controller observes r_t = E[sign D(A(x))].
* **D reg**: R1 on the same real batch, only every ``r1_interval`` (16) steps and multiplied by the
  interval, so on average it weighs as much as an R1 term every step (StyleGAN2 section 3.1, "lazy
  regularisation"). On the other steps the phase returns a constant: no gradient reaches D, and Adam
  skips parameters without a gradient, so D is not updated. Because D's Adam then takes k + 1 steps per k
  training steps, its lr and betas are adjusted as the reference does: c = k / (k + 1), lr * c, beta^c.
* **G**: fresh latents through the just-updated D.

Style mixing regularisation (StyleGAN section 3.1): with probability ``mixing`` a second latent z2 is
drawn and the layers from a random crossover index in [1, num_ws) on take its w. The loop keeps an EMA
of G (its ``w_avg`` buffer is copied), which draws the sample grids (with the stored noise maps, so grids
of different steps differ by training only) and the samples of ``sample`` (``--truncation PSI``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..augment import AUGMENTS, build_augment
from ..config import RunConfig, need, need_at_least, need_learning_rate, option
from ..errors import ToolkitError
from ..losses import bce_d_loss, nonsaturating_g_loss
from ..models.stylegan import StyleGANDiscriminator, StyleGANGenerator, mix_styles
from ..regularizers import r1_penalty
from .base import D_ACCURACY_CHART, LOSSES_CHART, R_T_CHART, STYLE_MIXING_VIEW, DataSpec, Family, Phase
from .gan import GANConfig

STYLEGAN_AUGMENTS = tuple(a for a in AUGMENTS if a != "diffusion")  # Diffusion-GAN's D needs the timestep


@dataclass
class StyleGANConfig(RunConfig):
    """Settings of the ``stylegan`` family: stylegan2-ada's CIFAR-10 configuration (``--cfg cifar``) where
    it fits a CPU, narrower; the paper's value in each help text."""

    steps: int = option(3000, "total training steps")
    ema: float = option(
        0.995, "EMA decay of the sampling generator (reference: ema_kimg 10, ~0.995 at batch 64)"
    )
    lr_g: float = option(2.5e-3, "generator learning rate (reference cifar: 2.5e-3)")
    lr_d: float = option(
        2.5e-3, "discriminator learning rate (reference cifar: 2.5e-3), before the lazy-R1 factor"
    )
    beta1: float = option(0.0, "Adam beta1 (reference: 0)")
    beta2: float = option(0.99, "Adam beta2 (reference: 0.99)")
    r1_gamma: float = option(0.01, "gamma of the R1 penalty on reals (reference cifar: 0.01; 0: off)")
    r1_interval: int = option(16, "lazy regularisation: R1 every N steps, weighted by N (reference: 16)")
    mixing: float = option(0.9, "style-mixing probability during training (reference: 0.9; cifar: 0)")
    z_dim: int = option(128, "size of the latent z (reference: 512)")
    w_dim: int = option(128, "size of the intermediate latent w (reference: 512)")
    mapping_layers: int = option(4, "dense layers of the mapping network (reference: 8; cifar: 2)")
    width: int = option(
        32, "channels per resolution up to 32x32, halved at each doubling above (reference: 512)"
    )
    augment: str = option("none", "what D sees", choices=STYLEGAN_AUGMENTS)
    ada_target: float = option(GANConfig.ada_target, "target of r_t = E[sign(D(real))] for ADA's p")
    ada_kimg: float = option(GANConfig.ada_kimg, "thousand images for p to move 0 -> 1 (paper: 500)")
    ada_interval: int = option(GANConfig.ada_interval, "update p every N D steps")

    def validate(self) -> "StyleGANConfig":
        super().validate()
        need(self.model == "stylegan", f"--model {self.model} is not a stylegan-family model")
        need_learning_rate(self, "lr_g", "lr_d")
        need(
            0 <= self.beta1 < 1 and 0 <= self.beta2 < 1,
            f"Adam betas must be in [0, 1), got {self.beta1}, {self.beta2}",
        )
        need_at_least(self, 0, "r1_gamma", off=True)
        need(self.r1_interval >= 1, f"--r1-interval must be >= 1, got {self.r1_interval}")
        need(0 <= self.mixing <= 1, f"--mixing is a probability, in [0, 1]; got {self.mixing}")
        need(
            min(self.z_dim, self.w_dim, self.mapping_layers, self.width) >= 1,
            "--z-dim, --w-dim, --mapping-layers and --width must be >= 1",
        )
        need(
            self.augment in STYLEGAN_AUGMENTS,
            f"--augment {self.augment} is not available for stylegan; "
            f"choose one of {', '.join(STYLEGAN_AUGMENTS)}",
        )
        need(-1 <= self.ada_target <= 1, f"--ada-target must be in [-1, 1], got {self.ada_target}")
        need(self.ada_kimg > 0 and self.ada_interval >= 1, "--ada-kimg must be > 0 and --ada-interval >= 1")
        return self


class StyleGANFamily(Family):
    name = "stylegan"
    lesson = 14
    Config = StyleGANConfig
    models = {
        "stylegan": "StyleGAN2 (Karras et al. 2020), small: mapping network, modulated convolutions, noise, "
        "style mixing; non-saturating loss, lazy R1, EMA; ADA with --augment ada"
    }
    ema_nets = ("G",)
    steerable = ("lr_g", "lr_d", "mixing", "ada_target")
    resumable = (*steerable, "beta1", "beta2")
    charts = (LOSSES_CHART, D_ACCURACY_CHART, R_T_CHART)
    dashboard_views = (STYLE_MIXING_VIEW,)  # its mixing grid and truncation slider (toolkit/style_mixing.py)
    bench_cases = (
        ("stylegan (with lazy R1)", "stylegan", {}),
        ("stylegan + ada", "stylegan", {"augment": "ada"}),
    )

    @classmethod
    def build_nets(cls, config: StyleGANConfig, spec: DataSpec) -> dict[str, nn.Module]:
        if spec.kind != "images" or len(spec.shape) != 3 or spec.shape[1] != spec.shape[2]:
            raise ToolkitError(
                f"stylegan needs square images, but the data has samples of shape {spec.shape}"
            )
        channels, resolution = spec.shape[0], spec.shape[1]
        if resolution < 8 or resolution & (resolution - 1):
            raise ToolkitError(
                f"stylegan builds its images from 4x4 by doubling, so they must be 8, 16, 32, 64, ... "
                f"pixels; these are {resolution} (use --resolution 32 or 64)"
            )
        c = config
        return {
            "G": StyleGANGenerator(c.z_dim, c.w_dim, channels, resolution, c.width, c.mapping_layers),
            "D": StyleGANDiscriminator(channels, resolution, c.width),
        }

    def __init__(self, config: StyleGANConfig, data, device, nets=None):
        super().__init__(config, data, device, nets)
        self.G, self.D = self.nets["G"], self.nets["D"]
        self.augment = build_augment(config, data.kind)
        if self.augment is not None:
            self.augment.to(device)
        c = self.lazy_ratio()
        self.optimizers = {
            "G": torch.optim.Adam(self.G.parameters(), lr=config.lr_g, betas=(config.beta1, config.beta2)),
            "D": torch.optim.Adam(
                self.D.parameters(), lr=config.lr_d * c, betas=(config.beta1**c, config.beta2**c)
            ),
        }
        self.d_steps = 0  # D updates so far: R1 runs on every r1_interval-th
        self._real: torch.Tensor | None = None  # D main's real batch, for D reg
        self._d_real: torch.Tensor | None = None
        self._r1 = torch.zeros((), device=device)  # the last R1 value, logged every step
        g = torch.Generator().manual_seed(
            config.seed + 2**20
        )  # the grid's latents never move the training RNG
        self.fixed_z = torch.randn(config.grid_size, config.z_dim, generator=g).to(device)

    # --- lazy regularisation's optimizer adjustment ----------------------------------------------
    def lazy_ratio(self) -> float:
        """c = k / (k + 1): D's Adam takes k + 1 steps per k training steps when R1 is on."""
        k = self.config.r1_interval
        return k / (k + 1) if self.config.r1_gamma and k > 1 else 1.0

    def set_betas(self) -> None:
        c, cfg = self.lazy_ratio(), self.config
        self.optimizers["G"].param_groups[0]["betas"] = (float(cfg.beta1), float(cfg.beta2))
        self.optimizers["D"].param_groups[0]["betas"] = (float(cfg.beta1) ** c, float(cfg.beta2) ** c)

    # --- the three phases ---------------------------------------------------------------------------
    def phases(self) -> list[Phase]:
        return [
            Phase("D", self.d_step, optimizer="D", nets=("D",), after=self.after_d),
            Phase("Dreg", self.d_reg_step, optimizer="D", nets=("D",), needs_batch=False),
            Phase("G", self.g_step, optimizer="G", nets=("G",), needs_batch=False),
        ]

    def d_step(self, batch: dict) -> tuple[torch.Tensor, dict]:
        real = batch["image"]
        self._real = real
        with torch.no_grad():
            fake = self.G.synthesis(self.mixed_styles(real.shape[0]))
        d_real, d_fake = self.discriminate(real), self.discriminate(fake)
        loss = bce_d_loss(d_real, d_fake)
        self._d_real = d_real = d_real.detach()
        d_fake = d_fake.detach()
        return loss, {
            "loss_d": loss.detach(),
            "d_real_acc": (d_real > 0).float().mean(),
            "d_fake_acc": (d_fake < 0).float().mean(),
            "d_real_sign": torch.sign(d_real).mean(),
        }

    def after_d(self) -> None:
        if self.augment is not None:
            self.augment.observe(self._d_real)

    def d_reg_step(self, batch: None) -> tuple[torch.Tensor, dict]:
        cfg = self.config
        self.d_steps += 1
        if not cfg.r1_gamma or (self.d_steps - 1) % cfg.r1_interval:
            return torch.zeros((), device=self.device, requires_grad=True), {"r1": self._r1}
        real = self._real.detach().requires_grad_(True)
        r1 = r1_penalty(self.discriminate(real), real, cfg.r1_gamma)
        self._r1 = r1.detach()
        return r1 * cfg.r1_interval, {"r1": self._r1}

    def g_step(self, batch: None) -> tuple[torch.Tensor, dict]:
        fake = self.G.synthesis(self.mixed_styles(self.config.batch_size))
        loss = nonsaturating_g_loss(self.discriminate(fake))
        stats = {"loss_g": loss.detach()}
        if self.augment is not None:
            stats.update(self.augment.stats())
        return loss, stats

    # --- the pieces the phases use -------------------------------------------------------------------
    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.config.z_dim, device=self.device)

    def mixed_styles(self, n: int) -> torch.Tensor:
        """ws (n, num_ws, w_dim) for training: one w per sample, and with probability ``mixing`` the layers
        from a crossover in [1, num_ws) on take a second latent's w (the reference draws one per batch)."""
        ws = self.G.styles(self.noise(n))
        if self.config.mixing and torch.rand(()).item() < self.config.mixing:
            crossover = int(torch.randint(1, self.G.num_ws, ()).item())
            ws = mix_styles(ws, self.G.styles(self.noise(n)), crossover)
        return ws

    def discriminate(self, x: torch.Tensor) -> torch.Tensor:
        return self.D(self.augment(x) if self.augment is not None else x)

    # --- samples ----------------------------------------------------------------------------------
    @property
    def generator(self) -> nn.Module:
        return self.sampling_net("G")

    @torch.no_grad()
    def sample(
        self, z: torch.Tensor | None = None, n: int = 64, use_ema: bool = True, psi: float = 1.0
    ) -> torch.Tensor:
        """Images from the generator in eval mode (stored noise maps), on the CPU."""
        G = self.generator if use_ema else self.G
        was_training = G.training
        G.eval()
        out = G(z.to(self.device) if z is not None else self.noise(n), psi=psi, noise_mode="const")
        G.train(was_training)
        return out.float().cpu()

    def grid(self) -> tuple[torch.Tensor, int | None]:
        return self.sample(self.fixed_z), None

    @classmethod
    def sampler(cls, nets: dict[str, nn.Module], config: dict, family_state: dict) -> nn.Module:
        G = nets["G"]  # G(z); its truncation_psi is what ``sample --truncation`` sets
        G.noise_mode = "const"  # the stored noise maps: a seed gives the same images every time
        return G

    # --- steering and state -----------------------------------------------------------------------
    def apply_settings(self, settings: dict) -> None:
        if "beta1" in settings or "beta2" in settings:
            self.set_betas()
        if "lr_g" in settings:
            self.set_lr(self.optimizers["G"], settings["lr_g"])
        if "lr_d" in settings:
            self.set_lr(self.optimizers["D"], settings["lr_d"] * self.lazy_ratio())
        if "ada_target" in settings and self.augment is not None and hasattr(self.augment, "target"):
            self.augment.target = float(settings["ada_target"])

    def state_dict(self) -> dict:
        return {
            "d_steps": self.d_steps,
            "r1": self._r1.item(),
            "augment": self.augment.state_dict() if self.augment is not None else None,
        }

    def load_state_dict(self, state: dict) -> None:
        self.d_steps = int(state["d_steps"])
        self._r1 = torch.tensor(float(state["r1"]), device=self.device)
        if self.augment is not None and state.get("augment") is not None:
            self.augment.load_state_dict(state["augment"])
