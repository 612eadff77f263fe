"""Training recipes, one module per family, found by model name.

================  ==============================================================================
family            models
================  ==============================================================================
``gan`` (gan.py)  mlp, dcgan, cgan, acgan, wgan, wgan-gp, sngan: noise -> image games (lessons 01-07)
``pggan``         pggan: progressive growing with fade-in (lesson 08)
``pix2pix``       pix2pix: paired image-to-image translation (lesson 09)
``cyclegan``      cyclegan: unpaired image-to-image translation (lesson 10)
``srgan``         srresnet, srgan: 4x super-resolution, pixel vs perceptual + adversarial (lesson 11)
``stylegan``      stylegan: StyleGAN2, mapping network and modulated convolutions, with ADA (lesson 14)
================  ==============================================================================

``family_for("wgan-gp")`` is the family class that trains that model; ``MODELS`` lists every model
with a one-line description; ``config_for("wgan-gp", steps=500)`` builds a model's config (the family's
defaults, the model's preset, then the settings given). Adding a family: write its module (see
docs/architecture.md), then add it to ``FAMILIES`` below; the training loop, the command line, the
dashboard, the report and the bench pick it up from here and from what its class declares (its charts,
grid caption, data, bench cases: ``toolkit/families/base.py``).
"""

from __future__ import annotations

from ..config import build_config
from ..errors import ToolkitError
from .base import DataSpec, Family, Phase
from .cyclegan import CycleGANConfig, CycleGANFamily
from .gan import GANConfig, GANFamily
from .pggan import PGGANConfig, PGGANFamily
from .pix2pix import Pix2PixConfig, Pix2PixFamily
from .srgan import SRGANConfig, SRGANFamily
from .stylegan import StyleGANConfig, StyleGANFamily

FAMILIES: dict[str, type[Family]] = {
    f.name: f for f in (GANFamily, PGGANFamily, Pix2PixFamily, CycleGANFamily, SRGANFamily, StyleGANFamily)
}
MODELS: dict[str, str] = {m: d for f in FAMILIES.values() for m, d in f.models.items()}


def family_for(model: str) -> type[Family]:
    """The family that trains ``model``, or a one-line error listing the models there are."""
    for family in FAMILIES.values():
        if model in family.models:
            return family
    raise ToolkitError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")


def config_for(model: str, **settings):
    """The one way to build a config: ``model``'s family config with the model's preset applied, then
    ``settings`` (they win). Validate it (or train it) to check the values."""
    family = family_for(model)
    return build_config(family.Config, model, family.presets, settings)


__all__ = [
    "FAMILIES",
    "MODELS",
    "DataSpec",
    "Family",
    "Phase",
    "family_for",
    "config_for",
    "GANConfig",
    "GANFamily",
    "PGGANConfig",
    "PGGANFamily",
    "Pix2PixConfig",
    "Pix2PixFamily",
    "CycleGANConfig",
    "CycleGANFamily",
    "SRGANConfig",
    "SRGANFamily",
    "StyleGANConfig",
    "StyleGANFamily",
]
