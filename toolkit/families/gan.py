"""The ``gan`` family: the noise-to-image games of lessons 01-07 (vanilla/MLP GAN, DCGAN, conditional GAN,
ACGAN, WGAN and WGAN-GP), with the augmentations of lessons 06-07.

Objective (Goodfellow et al. 2014, eq. 1), for the loss the config names (``toolkit.losses``):

    min_G max_D  E_x[log D(A(x))] + E_z[log(1 - D(A(G(z))))]

where A is what D sees (nothing, ADA, DiffAugment, or Diffusion-GAN's forward diffusion), applied to
real and generated images alike and inside G's graph, so G learns through it.

One training step has two phases:

* **D** (repeated ``n_critic`` times, each on a fresh real batch; WGAN's Algorithm 1):
  *D main*, the loss on a real and a generated batch (passed through D separately, so batch norm never
  mixes their statistics), plus ACGAN's class loss (Odena et al. eq. 2-3); then *D reg*, the gradient
  penalty (Gulrajani et al. eq. 3) or R1 (Mescheder et al. 2018). After the update: WGAN's weight
  clipping, and the augmentation controller observes r_t = E[sign D(real)].
* **G**: fresh noise (and fresh uniform labels) through the just-updated, frozen D.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..augment import (
    ForwardDiffusion,
    build_augment,
)
from ..losses import AdversarialLoss, get_loss
from ..models import CONDITIONAL, MODELS, build_models, is_conditional
from ..models.conditional import balanced_labels
from ..models.spectral_norm import apply_spectral_norm
from ..models.timestep import TimestepDiscriminator
from ..regularizers import clip_weights_, gradient_penalty, r1_penalty
from .base import D_ACCURACY_CHART, LOSSES_CHART, R_T_CHART, WGAN_CHART, DataSpec, Family, Phase
from .gan_config import PRESETS, GANConfig
from .measurements import (
    FID_CHART,
    KID_CHART,
    MEASURED_RESUMABLE,
    OVERFITTING_CHART,
    measuring_callbacks,
)


class GANFamily(Family):
    name = "gan"
    lesson = 1
    Config = GANConfig
    models = MODELS
    presets = PRESETS
    ema_nets = ("G",)
    steerable = ("lr_g", "lr_d", "ada_target")
    resumable = (*steerable, "beta1", "beta2", *MEASURED_RESUMABLE)
    progress_bar = ("loss", "d_real_acc")
    charts = (
        LOSSES_CHART,
        D_ACCURACY_CHART,
        R_T_CHART,
        OVERFITTING_CHART,
        WGAN_CHART,
        ("ACGAN: D's class accuracy on reals", ("class_acc_real",)),
        FID_CHART,
        KID_CHART,
        ("Diffusion-GAN T", ("diffusion_t",)),
    )
    collapse_alarm = True
    time_scales_with_pixels = True  # the bench times it at 32x32
    bench_cases = (  # each at its defaults
        ("dcgan", "dcgan", {}),
        ("cgan", "cgan", {}),
        ("acgan", "acgan", {}),
        ("wgan-gp (5 critic steps)", "wgan-gp", {}),
        ("dcgan + ada", "dcgan", {"augment": "ada"}),
        ("dcgan + diffaugment", "dcgan", {"augment": "diffaugment"}),
        ("dcgan + diffusion", "dcgan", {"augment": "diffusion"}),
    )

    @classmethod
    def callbacks(cls, config: GANConfig) -> list:
        return measuring_callbacks(config)

    @classmethod
    def build_nets(cls, config: GANConfig, spec: DataSpec) -> dict[str, nn.Module]:
        G, D = build_models(
            config.model,
            spec.shape,
            config.z_dim,
            config.width,
            spec.kind,
            spec.num_classes,
            config.g_condition,
            config.d_condition,
        )
        if config.augment == "diffusion":  # Diffusion-GAN's D also sees the timestep t; it replaces the plain
            # D, which is still built first so that a seed gives the same initial G and D in every version
            D = TimestepDiscriminator(spec.shape[0], spec.shape[1], config.width, config.diffusion_t_max)
        if config.spectral_norm:
            apply_spectral_norm(D)
        return {"G": G, "D": D}

    @classmethod
    def needs(cls, config: GANConfig) -> tuple[str, ...]:
        return ("image", "label") if config.model in CONDITIONAL else ("image",)

    def __init__(self, config: GANConfig, data, device, nets=None):
        super().__init__(config, data, device, nets)
        self.G, self.D = self.nets["G"], self.nets["D"]
        self.conditional = is_conditional(self.G)
        self.num_classes = self.G.num_classes if self.conditional else 0
        self.augment = build_augment(config, data.kind)
        if self.augment is not None:
            self.augment.to(device)
        betas = (config.beta1, config.beta2)
        self.optimizers = {
            "G": torch.optim.Adam(self.G.parameters(), lr=config.lr_g, betas=betas),
            "D": torch.optim.Adam(self.D.parameters(), lr=config.lr_d, betas=betas),
        }
        self.opt_g, self.opt_d = self.optimizers["G"], self.optimizers["D"]
        self.loss: AdversarialLoss = get_loss(config.loss)
        # its own generator: drawing the fixed latents never moves the training RNG
        g = torch.Generator().manual_seed(config.seed + 2**20)
        n = max(config.grid_size, 8) if self.conditional else config.grid_size  # conditional: 8 per class
        self.fixed_z = torch.randn(n, config.z_dim, generator=g).to(device)
        self.fixed_y = None
        if self.conditional:  # one row of 8 per class, the same 8 latents in every row (style vs class)
            self.fixed_z = self.fixed_z[:8].repeat(self.num_classes, 1)
            self.fixed_y = torch.arange(self.num_classes, device=device).repeat_interleave(8)
        self._d_real = None  # D's logits on the last real batch, for the controller in after_d

    # --- the two phases --------------------------------------------------------------------------
    def phases(self) -> list[Phase]:
        return [
            Phase(
                "D", self.d_step, optimizer="D", nets=("D",), repeat=self.config.n_critic, after=self.after_d
            ),
            Phase("G", self.g_step, optimizer="G", nets=("G",), needs_batch=False),
        ]

    def d_step(self, batch: dict) -> tuple[torch.Tensor, dict]:
        cfg, real = self.config, batch["image"]
        y = batch["label"] if self.conditional else None  # fakes for D's step get the real batch's labels
        with torch.no_grad():  # G's output is a constant here
            fake = self.generate(self.noise(real.shape[0]), y)
        if cfg.r1_weight:
            real = real.detach().requires_grad_(True)
        # D main
        d_real, c_real = self.discriminate(real, y)
        d_fake, c_fake = self.discriminate(fake, y)
        loss = self.loss.d_loss(d_real, d_fake)
        stats = {}
        if c_real is not None:  # ACGAN (Odena et al. eq. 2-3): D also names the class of reals and fakes
            class_loss = F.cross_entropy(c_real, y)
            if cfg.aux_on_fakes:  # the paper's L_C; off, D learns classes from reals only (see results/acgan)
                class_loss = class_loss + F.cross_entropy(c_fake, y)
            loss = loss + cfg.aux_weight * class_loss
            stats["class_acc_real"] = (c_real.argmax(1) == y).float().mean()
        # D reg
        if cfg.gp_weight:
            gp, norms = gradient_penalty(lambda x: self.discriminate(x, y)[0], real, fake, cfg.gp_weight)
            loss = loss + gp
            stats["gp"], stats["grad_norm"] = gp.detach(), norms.mean()
        if cfg.r1_weight:
            r1 = r1_penalty(d_real, real, cfg.r1_weight)
            loss = loss + r1
            stats["r1"] = r1.detach()
        d_real, d_fake = d_real.detach(), d_fake.detach()
        self._d_real = d_real
        stats.update(
            {
                "loss_d": loss.detach(),
                "d_real_acc": (d_real > 0).float().mean(),  # D says "real" (sigmoid > 0.5) on real images
                "d_fake_acc": (d_fake < 0).float().mean(),  # D says "fake" on generated images
                "d_real_sign": torch.sign(d_real).mean(),  # r_t of the ADA paper: the overfitting heuristic
            }
        )
        if cfg.loss == "wasserstein":  # the critic's estimate of W(P_real, P_G) (Arjovsky et al. eq. 3)
            stats["w_estimate"] = d_real.mean() - d_fake.mean()
        return loss, stats

    def after_d(self) -> None:
        if self.config.clip:
            clip_weights_(self.D, self.config.clip)
        if self.augment is not None:
            self.augment.observe(self._d_real)  # ADA's p / Diffusion-GAN's T follow r_t

    def g_step(self, batch: None) -> tuple[torch.Tensor, dict]:
        b = self.config.batch_size
        y = self.random_labels(b)
        d_gen, c_gen = self.discriminate(self.generate(self.noise(b), y), y)
        loss = self.loss.g_loss(d_gen)
        if c_gen is not None:
            loss = loss + self.config.aux_weight * F.cross_entropy(c_gen, y)
        stats = {"loss_g": loss.detach()}
        if self.augment is not None:
            stats.update(self.augment.stats())
        return loss, stats

    # --- the pieces the phases use (public: lessons and callbacks call them) --------------------
    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.config.z_dim, device=self.device)

    def random_labels(self, n: int) -> torch.Tensor | None:
        """Uniformly drawn class labels for a conditional generator (None for an unconditional one)."""
        return torch.randint(self.num_classes, (n,), device=self.device) if self.conditional else None

    def generate(
        self, z: torch.Tensor, y: torch.Tensor | None = None, G: nn.Module | None = None
    ) -> torch.Tensor:
        """G(z, y) for a conditional generator, G(z) otherwise."""
        G = self.G if G is None else G
        return G(z, y) if self.conditional else G(z)

    def discriminate(
        self, x: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """D's verdict on a batch as ``(logits, class_logits or None)``, after the augmentation.

        Diffusion-GAN's augmentation returns ``(x_t, t)``: its D takes the timestep in place of a label."""
        condition = y
        if self.augment is not None:
            x = self.augment(x)
            if isinstance(x, tuple):
                x, condition = x
        out = self.D(x, condition) if condition is not None else self.D(x)
        return out if isinstance(out, tuple) else (out, None)

    @property
    def generator(self) -> nn.Module:
        """The generator to sample from: the EMA copy when there is one."""
        return self.sampling_net("G")

    @torch.no_grad()
    def sample(
        self, z: torch.Tensor | None = None, n: int = 64, use_ema: bool = True, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Images (or points) from the generator in eval mode, on the CPU. A conditional generator
        gets ``y`` (default: balanced labels 0, 1, ..., C-1, 0, ...)."""
        G = self.generator if use_ema else self.G
        was_training = G.training
        G.eval()
        z = z.to(self.device) if z is not None else self.noise(n)
        if self.conditional and y is None:
            y = balanced_labels(z.shape[0], self.num_classes, self.device)
        out = self.generate(z, None if y is None else torch.as_tensor(y, device=self.device), G)
        G.train(was_training)
        return out.float().cpu()

    @classmethod
    def sampler(cls, nets: dict[str, nn.Module], config: dict, family_state: dict) -> nn.Module:
        return nets["G"]  # G(z), or G(z, y) for the conditional models

    def grid(self) -> tuple[torch.Tensor, int | None]:
        return self.sample(self.fixed_z, y=self.fixed_y), (8 if self.conditional else None)  # class rows

    @classmethod
    def augmentation_at(cls, run) -> tuple[nn.Module | None, str]:
        """A run's augmentation with the state of its checkpoint (ADA's p, Diffusion-GAN's T) and a caption
        saying which: what D saw then (the dashboard's "What D sees")."""
        config, state = run.config(), run.load_checkpoint()
        augment = build_augment(GANConfig.from_dict(config), config["kind"])
        if augment is None:
            return None, "D sees the images as they are"
        if state["family_state"].get("augment") is not None:
            augment.load_state_dict(state["family_state"]["augment"])
        at = f"at the checkpoint of step {state['step']}"
        if isinstance(augment, ForwardDiffusion):
            what = f"Diffusion-GAN with T = {augment.num_timesteps} {at}; t drawn per image"
        elif hasattr(augment, "p"):
            what = f"ADA at p = {augment.p.item():.2f} {at}"
        else:
            what = "DiffAugment (colour, translation, cutout), applied to every image"
        return augment.eval(), what

    # --- steering and state ----------------------------------------------------------------------
    def apply_settings(self, settings: dict) -> None:
        if "beta1" in settings or "beta2" in settings:
            self.set_betas()
        if "lr_g" in settings:
            self.set_lr(self.opt_g, settings["lr_g"])
        if "lr_d" in settings:
            self.set_lr(self.opt_d, settings["lr_d"])
        if "ada_target" in settings and self.augment is not None and hasattr(self.augment, "target"):
            self.augment.target = float(settings["ada_target"])

    def state_dict(self) -> dict:
        return {"augment": self.augment.state_dict() if self.augment is not None else None}

    def load_state_dict(self, state: dict) -> None:
        if self.augment is not None and state.get("augment") is not None:
            self.augment.load_state_dict(state["augment"])  # ADA's p / Diffusion-GAN's T, exactly
