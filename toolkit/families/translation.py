"""What pix2pix and CycleGAN share: two-domain data, a learning rate that decays linearly to zero, sample
grids of input -> output (-> reconstruction), and a translator for ``python -m toolkit translate``.

The two families are ``pix2pix.py`` and ``cyclegan.py``; this module holds no objective of its own.

Learning-rate schedule (both papers, and the reference's ``linear`` policy): constant, then linearly to
zero over the last ``lr_decay`` fraction of the run (the papers: 100 epochs constant + 100 decaying,
``lr_decay = 0.5``). :func:`linear_decay_factor` is the reference's formula with steps for epochs.

At sampling and translation time the generators run in eval mode: batch norm uses its running
statistics and dropout is off, so an image's translation does not depend on the other images of its batch.
(pix2pix's paper instead kept dropout and batch statistics at test time with batch size 1; the
difference is shown in lesson 09 and tested.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from ..config import RunConfig, need, need_learning_rate, option
from ..data.translation import TRANSLATION_DATASETS, load_translation
from ..errors import ToolkitError
from .base import TWO_DOMAINS, DataSpec, Family

TRANSLATION_DATA_HELP = (
    f"{', '.join(TRANSLATION_DATASETS)}, or a folder/.zip with sub-folders A/ and B/ of your own images"
)


def linear_decay_factor(step: int, steps: int, decay_steps: int) -> float:
    """The learning-rate multiplier for step ``step`` (0-based) of ``steps``: 1 until the last
    ``decay_steps``, then 1 - (k + 1) / (decay_steps + 1) at the k-th of them (it never reaches 0).
    With 100 + 100 epochs for steps: 1.0 at 99, 0.990 at 100, 0.495 at 150, 0.0099 at 199."""
    return 1.0 - max(0, step + 1 - (steps - decay_steps)) / (decay_steps + 1)


def side_by_side(*columns: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Sample-grid images with one row per input and one column per tensor (e.g. input | output | target),
    and the images per row. Grey columns become three equal channels when another column is in colour."""
    colour = max(c.shape[1] for c in columns)
    columns = [c.cpu().expand(-1, colour, -1, -1) for c in columns]
    return torch.stack(columns, 1).flatten(0, 1), len(columns)


@dataclass
class TranslationConfig(RunConfig):
    """Settings pix2pix and CycleGAN share (mixed into their dataclass configs)."""

    lr_g: float = option(2e-4, "generator learning rate (both papers: 2e-4)")
    lr_d: float = option(2e-4, "discriminator learning rate (both papers: 2e-4)")
    beta1: float = option(0.5, "Adam beta1 (both papers: 0.5)")
    beta2: float = option(0.999, "Adam beta2")
    lr_decay: float = option(
        0.5,
        "fraction of the run at its end over which the rates fall linearly to 0 (papers: 0.5; 0: constant)",
    )
    d_layers: int = option(
        0,
        "PatchGAN depth, 1-4 (receptive field 16, 34, 70, 142 pixels); 0: the deepest whose field is at most "
        "half the image (3, the paper's 70x70, for 256 px; 1 for 32 px)",
    )

    def validate_translation(self) -> None:
        need_learning_rate(self, "lr_g", "lr_d")
        need(
            0 <= self.beta1 < 1 and 0 <= self.beta2 < 1,
            f"Adam betas must be in [0, 1), got {self.beta1}, {self.beta2}",
        )
        need(0 <= self.lr_decay <= 1, f"--lr-decay is a fraction of the run, in [0, 1]; got {self.lr_decay}")
        need(0 <= self.d_layers <= 4, f"--d-layers must be 0 (auto) or 1-4, got {self.d_layers}")


class TranslationFamily(Family):
    """The base of pix2pix and CycleGAN. A subclass sets ``paired`` and ``directions`` (translate's
    ``--direction`` -> the generator's name) and implements the phases."""

    paired: ClassVar[bool]
    directions: ClassVar[dict[str, str]]
    steerable = ("lr_g", "lr_d")
    resumable = (*steerable, "beta1", "beta2", "lr_decay")
    trains_on = TWO_DOMAINS
    datasets = TRANSLATION_DATASETS

    def __init__(self, config, data, device, nets=None):
        super().__init__(config, data, device, nets)
        self.steps_done = (
            0  # the family's own count, for the learning-rate schedule (saved, so resumes exactly)
        )
        a, b = data.fixed(config.grid_size)
        self.fixed_a, self.fixed_b = a.to(device), b.to(device)

    # --- data ----------------------------------------------------------------------------------
    @classmethod
    def load_data(cls, config):
        return load_translation(
            config.data, resolution=config.resolution, limit=config.limit, seed=config.seed, paired=cls.paired
        )

    @classmethod
    def needs(cls, config) -> tuple[str, ...]:
        return ("A", "B")

    @classmethod
    def check_data(cls, config, data) -> None:
        if getattr(data, "kind", None) != "translation":
            raise ToolkitError(
                f"--model {config.model} translates between two image domains; give --data "
                f"{TRANSLATION_DATA_HELP} (got {data.name}, a one-domain dataset)"
            )
        if cls.paired and not data.paired:
            raise ToolkitError(f"{data.name} is unpaired; pix2pix needs pairs: use --model cyclegan")

    @staticmethod
    def patch_layers(config, spec: DataSpec) -> int:
        from ..models.pix2pix import auto_patch_layers

        return config.d_layers or auto_patch_layers(spec.shape[-1])

    # --- the schedule ----------------------------------------------------------------------------
    def advance(self) -> None:
        """After each step: count it, and set the rates of the next one (base rate x decay factor)."""
        self.steps_done += 1
        self.apply_rates()

    def apply_rates(self) -> None:
        c = self.config
        factor = linear_decay_factor(self.steps_done, c.steps, round(c.lr_decay * c.steps))
        self.set_lr(self.optimizers["G"], c.lr_g * factor)
        self.set_lr(self.optimizers["D"], c.lr_d * factor)

    def adam(self, *nets: nn.Module, lr: float) -> torch.optim.Adam:
        params = [p for net in nets for p in net.parameters()]
        return torch.optim.Adam(params, lr=lr, betas=(self.config.beta1, self.config.beta2))

    # --- samples and translation -----------------------------------------------------------------
    @torch.no_grad()
    def translate(self, x: torch.Tensor, direction: str = "a2b") -> torch.Tensor:
        """Translate images with the generator of ``direction``, in eval mode, on the CPU."""
        G = self.nets[self.directions[direction]]
        was_training = G.training
        G.eval()
        out = G(x.to(self.device)).float().cpu()
        G.train(was_training)
        return out

    @classmethod
    def translator(cls, nets: dict[str, nn.Module], direction: str) -> nn.Module:
        if direction not in cls.directions:
            raise ToolkitError(
                f"--direction {direction} is not available for {cls.name}; choose {', '.join(cls.directions)}"
            )
        return nets[cls.directions[direction]].eval()

    # --- steering and state ----------------------------------------------------------------------
    def apply_settings(self, settings: dict) -> None:
        if "beta1" in settings or "beta2" in settings:
            self.set_betas()
        self.apply_rates()

    def state_dict(self) -> dict:
        return {"steps_done": self.steps_done}

    def load_state_dict(self, state: dict) -> None:
        self.steps_done = int(state["steps_done"])
        self.apply_rates()
