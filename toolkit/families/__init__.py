"""Training recipes, one module per family, found by its file name.

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
defaults, the model's preset, then the settings given). Adding a family is one new file here (see
docs/architecture.md): a ``Family`` subclass with its ``name`` and ``models``. ``discover_families`` below
finds it; the training loop, the command line, the dashboard, the report and the bench pick it up from
``FAMILIES`` and from what its class declares (its charts, grid caption, data, bench cases:
``toolkit/families/base.py``).
"""

from __future__ import annotations

import importlib
import pkgutil

from ..config import build_config
from ..errors import ToolkitError
from .base import DataSpec, Family, Phase
from .cyclegan import CycleGANConfig, CycleGANFamily
from .gan import GANConfig, GANFamily
from .pggan import PGGANConfig, PGGANFamily
from .pix2pix import Pix2PixConfig, Pix2PixFamily
from .srgan import SRGANConfig, SRGANFamily
from .stylegan import StyleGANConfig, StyleGANFamily

# The modules here that hold parts of families (a base class, a config, shared measurements) and no family
# of their own; every other module is one family's file.
PARTS = ("base", "gan_config", "measurements", "translation")


def families_in(module) -> list[type[Family]]:
    """The families a module defines: its own ``Family`` subclasses that name their ``models``."""
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Family)
        and value.__module__ == module.__name__
        and "models" in vars(value)
    ]


def discover_families(package_path=__path__, package=__name__) -> dict[str, type[Family]]:
    """Every family of this folder by name, in the order of the lessons that teach them (``Family.lesson``;
    a family of no lesson comes last). Imports each module (the .py files here, by name); a one-line error
    when a module defines no family, or two declare the same model or family name."""
    found: dict[str, type[Family]] = {}
    file_of: dict[str, str] = {}  # model or family name -> the file that declares it
    for module_info in pkgutil.iter_modules(package_path):
        if module_info.name in PARTS:
            continue
        file = f"{package.replace('.', '/')}/{module_info.name}.py"
        families = families_in(importlib.import_module(f"{package}.{module_info.name}"))
        if not families:
            raise ToolkitError(
                f"{file} defines no family: give it a Family subclass with name and models "
                f"(or, for a module of shared parts, add its name to PARTS in toolkit/families/__init__.py)"
            )
        for family in families:
            for name in (f"family {family.name!r}", *(f"model {m!r}" for m in family.models)):
                if name in file_of:
                    raise ToolkitError(f"{name} is declared twice, in {file_of[name]} and {file}: rename one")
                file_of[name] = file
            found[family.name] = family
    return dict(sorted(found.items(), key=lambda item: (item[1].lesson is None, item[1].lesson or 0)))


FAMILIES: dict[str, type[Family]] = discover_families()
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
