"""The ``gan`` family's settings: ``GANConfig`` (the defaults and checks of lessons 01-07), the presets that
make wgan, wgan-gp and sngan the papers' models, and the objectives a config of those models must keep. The
family itself (its nets and its steps) is ``gan.py``; StyleGAN's config extends this one.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..augment import ADA_TARGET, AUGMENTS, DIFFUSION_SIGMA, DIFFUSION_T_MAX, DIFFUSION_T_MIN
from ..config import (
    POSITIVE,
    build_config,
    need,
    need_at_least,
    need_learning_rate,
    need_objective,
    option,
)
from ..losses import LOSSES, get_loss
from ..models import MODELS
from ..models.dcgan import RESOLUTIONS as DCGAN_RESOLUTIONS
from .measurements import MeasuredConfig

# Settings a model needs to train as its paper intends; applied unless given explicitly.
PRESETS: dict[str, dict] = {
    # Arjovsky et al. 2017, Algorithm 1: n_critic 5, clip 0.01, RMSProp 5e-5 (Adam with beta1 = 0 is
    # RMSProp plus bias correction; the paper found momentum unstable with clipping)
    "wgan": {
        "loss": "wasserstein",
        "n_critic": 5,
        "clip": 0.01,
        "lr_g": 5e-5,
        "lr_d": 5e-5,
        "beta1": 0.0,
        "beta2": 0.9,
    },
    # Gulrajani et al. 2017, Algorithm 1: lambda 10, n_critic 5, Adam(1e-4, beta1 0, beta2 0.9); we use 2e-4
    # for CPU-length runs (a choice for short runs; no lesson measures it)
    "wgan-gp": {
        "loss": "wasserstein",
        "n_critic": 5,
        "gp_weight": 10.0,
        "lr_g": 2e-4,
        "lr_d": 2e-4,
        "beta1": 0.0,
        "beta2": 0.9,
    },
    # Miyato et al. 2018, the hinge-loss setting of their ResNet experiments: lr 2e-4, betas (0, 0.9),
    # n_dis 5 (--n-critic 1 is the common cheaper choice); spectral norm on every layer of D
    "sngan": {
        "loss": "hinge",
        "spectral_norm": True,
        "n_critic": 5,
        "lr_g": 2e-4,
        "lr_d": 2e-4,
        "beta1": 0.0,
        "beta2": 0.9,
    },
}

# What makes a model the paper's (its preset sets it): a config without it trains another objective, so
# validate() refuses it, e.g. GANConfig(model="wgan-gp") made without config_for (the plain GAN's loss).
OBJECTIVES: dict[str, tuple[str, dict]] = {
    "wgan": ("the Wasserstein loss with weight clipping", {"loss": "wasserstein", "clip": POSITIVE}),
    "wgan-gp": (
        "the Wasserstein loss with a gradient penalty",
        {"loss": "wasserstein", "gp_weight": POSITIVE},
    ),
}


@dataclass
class GANConfig(MeasuredConfig):
    """Settings of the ``gan`` family (on top of the loop's :class:`RunConfig`).

    Defaults are chosen for sample quality per CPU-minute on a 2-core machine: a width-32 DCGAN at batch
    64 runs ~6 steps/s. With Adam at 1e-3 (beta1 0.5) it draws clothing-like shapes after ~250 steps and
    recognisable garments after ~1,000 (about 3 minutes); the DCGAN paper's 2e-4 needed ~1,500 steps for less.
    """

    lr_g: float = option(1e-3, "generator learning rate")
    lr_d: float = option(1e-3, "discriminator learning rate")
    beta1: float = option(0.5, "Adam beta1 (DCGAN paper, section 4: the default 0.9 made training unstable)")
    beta2: float = option(0.999, "Adam beta2")
    loss: str = option("nonsaturating", "adversarial loss", choices=tuple(LOSSES))
    n_critic: int = option(1, "D (critic) updates per G update")
    gp_weight: float = option(0.0, "lambda of WGAN-GP's gradient penalty (0: off; the paper uses 10)")
    r1_weight: float = option(0.0, "gamma of the R1 penalty on real images (0: off)")
    clip: float = option(0.0, "WGAN weight clipping: clamp D's weights to [-clip, clip] (0: off)")
    spectral_norm: bool = option(
        False, "spectral normalisation (Miyato et al. 2018) of every conv and linear layer of D"
    )
    aux_weight: float = option(1.0, "ACGAN: weight of the auxiliary classification loss")
    aux_on_fakes: bool = option(
        True, "ACGAN: D's class loss on generated images too (Odena et al. eq. 3); off: on reals only"
    )
    g_condition: str = option("cbn", "cgan generator conditioning", choices=("cbn", "concat"))
    d_condition: str = option(
        "projection", "cgan discriminator conditioning", choices=("projection", "concat")
    )
    augment: str = option("none", "what D sees", choices=tuple(AUGMENTS))
    ada_target: float = option(
        ADA_TARGET, "target of r_t = E[sign(D(real))] for ADA's p and Diffusion-GAN's T"
    )
    ada_kimg: float = option(
        20.0, "thousand images for p to move 0 -> 1 (paper: 500; short CPU runs need faster)"
    )
    ada_interval: int = option(4, "update p (or T) every N D steps")
    diffusion_t_min: int = option(DIFFUSION_T_MIN, "Diffusion-GAN: smallest T, where T starts")
    diffusion_t_max: int = option(DIFFUSION_T_MAX, "Diffusion-GAN: largest T (the authors' code)")
    diffusion_sigma: float = option(DIFFUSION_SIGMA, "Diffusion-GAN: std of the added noise (authors' code)")
    z_dim: int = option(64, "size of the latent vector z")
    width: int = option(32, "channels of the narrowest conv layer (DCGAN) or hidden-size unit (MLP)")

    @classmethod
    def for_model(cls, model: str, **settings) -> "GANConfig":
        """config_for(model, ...) for a gan-family model (lessons 01-07 call it ``TrainConfig.for_model``)."""
        need(model in MODELS, f"--model {model} is not a gan-family model; build its config with config_for")
        return build_config(cls, model, PRESETS, settings)

    def validate(self) -> "GANConfig":
        super().validate()
        need(self.model in MODELS, f"--model {self.model} is not a gan-family model")
        need_learning_rate(self, "lr_g", "lr_d")
        need(
            0 <= self.beta1 < 1 and 0 <= self.beta2 < 1,
            f"Adam betas must be in [0, 1), got {self.beta1}, {self.beta2}",
        )
        get_loss(self.loss)
        need(self.n_critic >= 1, f"--n-critic must be >= 1, got {self.n_critic}")
        need_at_least(self, 0, "gp_weight", "r1_weight", "clip", "aux_weight", off=True)
        need(
            self.augment in AUGMENTS,
            f"unknown --augment {self.augment!r}; choose one of {', '.join(AUGMENTS)}",
        )
        need(
            -1 <= self.ada_target <= 1,
            f"--ada-target is a target for E[sign(D(real))], in [-1, 1]; got {self.ada_target}",
        )
        need(self.ada_kimg > 0 and self.ada_interval >= 1, "--ada-kimg must be > 0 and --ada-interval >= 1")
        need(
            self.diffusion_t_max >= 1 and self.diffusion_sigma > 0,
            "--diffusion-t-max must be >= 1, --diffusion-sigma > 0",
        )
        need(
            1 <= self.diffusion_t_min <= self.diffusion_t_max,
            f"--diffusion-t-min must be in [1, --diffusion-t-max = {self.diffusion_t_max}], "
            f"got {self.diffusion_t_min}",
        )
        need(
            self.augment != "diffusion" or self.model == "dcgan",
            f"--augment diffusion is built for --model dcgan; use ada or diffaugment with {self.model}",
        )
        need(self.z_dim >= 1 and self.width >= 1, "--z-dim and --width must be >= 1")
        allowed = " or ".join(map(str, DCGAN_RESOLUTIONS))
        need(
            self.model == "mlp" or self.resolution in (None, *DCGAN_RESOLUTIONS),
            f"--model {self.model} takes --resolution {allowed} (the toolkit resizes the images for you; "
            f"32 trains about 4x faster on a CPU), got {self.resolution}",
        )
        if self.model in OBJECTIVES:  # after the values' own checks
            need_objective(self, *OBJECTIVES[self.model])
        return self
