"""What a family (one training recipe) gives the loop.

A family is a small class. The loop (:class:`toolkit.training.Trainer`) builds it from a config and
data, then, every step, runs its :meth:`Family.phases` in order. A phase names the optimizer it
steps and the nets it trains; the loop freezes every other net, zeroes the gradients, calls the
phase's ``run(batch)`` for the loss, back-propagates, steps the optimizer and calls ``after()``.
That is all the loop knows: no "G", no "D", no noise, no labels.

A family declares, as class attributes:

* ``name``, ``Config`` (a :class:`~toolkit.config.RunConfig` subclass with its defaults), ``models``
  (model names it trains, with one-line descriptions), ``presets`` (per-model settings) and ``lesson`` (the
  lesson that teaches it: ``--help`` and the start form list the models in the lessons' order);
* ``ema_nets``: the nets the loop keeps an exponential moving average of (used for samples);
* ``steerable``: settings the dashboard may change while the run trains; ``resumable``: settings that
  may change on resume; ``progress_bar``: the logged values the progress bar shows;
* what the tools around the loop show: ``charts`` (the dashboard's live charts and the report's curves),
  ``grid_caption``, ``trains_on`` and ``datasets`` (the start form's data and its check of your folder),
  ``collapse_alarm``, ``time_scales_with_pixels`` (the form's time estimate), ``bench_cases`` (what
  ``python -m toolkit bench`` times) and ``dashboard_views`` (tabs only some families' runs get, from
  :data:`DASHBOARD_VIEWS`, e.g. StyleGAN's style mixing and truncation);

and implements :meth:`build_nets` (a classmethod: the nets from a config alone, so a trained run can be
rebuilt for sampling without data), :meth:`phases`, :meth:`grid` (what sample grids show) and, when
it keeps state beyond its nets and optimizers (an augmentation's p, a growth schedule), ``state_dict``
and ``load_state_dict``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable, ClassVar

import torch
from torch import nn

from ..data import DATASETS
from ..errors import ToolkitError
from ..runs import data_description

# What a family trains on (``Family.trains_on``): how the start form lists data and checks your own folder.
IMAGE_SET = "one set of images"  # flat, or one sub-folder per class for conditional models
TWO_DOMAINS = "two domains"  # sub-folders A/ and B/ (paired by file name where the family is paired)
SHRUNK_IMAGES = "images shrunk to make the inputs"  # any images: each, shrunk, is the input of itself

# Charts several families draw (``Family.charts``): (title, the logged keys it plots).
LOSSES_CHART = ("Losses", ("loss_d", "loss_g"))
D_ACCURACY_CHART = ("Discriminator accuracy", ("d_real_acc", "d_fake_acc"))
R_T_CHART = ("r_t = E[sign D(real)] and ADA p", ("d_real_sign", "ada_p"))
WGAN_CHART = ("WGAN critic: W estimate and gradient norm", ("w_estimate", "grad_norm"))

# Tabs the dashboard draws for the families that declare them (``Family.dashboard_views``); app.py maps each
# name to the module that draws it.
STYLE_MIXING_VIEW = (
    "Style mixing"  # app_tabs/style_mixing.py: mixing grid and truncation (toolkit/style_mixing.py)
)
DASHBOARD_VIEWS = (STYLE_MIXING_VIEW,)


@dataclass(frozen=True)
class DataSpec:
    """What a family needs to know of the data to build its nets (saved in config.json)."""

    shape: tuple[int, ...]  # one sample, e.g. (1, 32, 32) or (2,); for translation: one A image
    kind: str = "images"  # "images", "points" or "translation"
    num_classes: int = 0
    shape_b: tuple[int, ...] = ()  # translation: one B image

    @classmethod
    def of(cls, data) -> "DataSpec":
        return cls(tuple(data.shape), data.kind, data.num_classes, tuple(getattr(data, "shape_b", ())))

    @classmethod
    def from_config(cls, config: dict) -> "DataSpec":
        """From a run's config.json (its format is ``toolkit/runs.py``'s)."""
        return cls(**data_description(config))


@dataclass
class Phase:
    """One optimizer update within a training step (stylegan2-ada's Gmain / Dmain / Dreg)."""

    name: str  # "D", "G", ...
    run: Callable[[dict | None], tuple[torch.Tensor, dict[str, torch.Tensor]]]  # batch -> (loss, stats)
    optimizer: str  # key of ``family.optimizers``
    nets: tuple[str, ...]  # the nets this phase trains; all others are frozen while it runs
    repeat: int = 1  # e.g. n_critic D updates per G update, each on a fresh batch
    needs_batch: bool = True  # False: ``run(None)`` (e.g. G's update draws only noise)
    after: Callable[[], None] | None = None  # after the optimizer step (weight clipping, controllers)


class Family(ABC):
    name: ClassVar[str]
    Config: ClassVar[type]
    models: ClassVar[dict[str, str]]
    lesson: ClassVar[int | None] = None  # the lesson that teaches it: model lists follow the lessons' order
    presets: ClassVar[dict[str, dict]] = {}
    ema_nets: ClassVar[tuple[str, ...]] = ()
    steerable: ClassVar[tuple[str, ...]] = ()
    resumable: ClassVar[tuple[str, ...]] = ()  # settings that may change on resume, beyond the loop's
    progress_bar: ClassVar[tuple[str, ...]] = ("loss",)  # logged values the progress bar shows (prefixes)
    # what the tools around the loop show (the dashboard, the report, the bench, the start form)
    charts: ClassVar[tuple[tuple[str, tuple[str, ...]], ...]] = ()  # (title, logged keys): one chart each
    grid_caption: ClassVar[str] = "the same latent vectors every time"  # what a sample grid shows
    trains_on: ClassVar[str] = IMAGE_SET  # IMAGE_SET, TWO_DOMAINS or SHRUNK_IMAGES (above)
    datasets: ClassVar[dict[str, str]] = DATASETS  # the built-in data it takes, with one-line descriptions
    collapse_alarm: ClassVar[bool] = False  # the dashboard checks its samples for mode collapse
    time_scales_with_pixels: ClassVar[bool] = False  # the form scales the bench's step time by resolution
    bench_cases: ClassVar[tuple[tuple[str, str, dict], ...]] = ()  # (label, model, settings) the bench times
    bench_warmup: ClassVar[int] = 2  # steps before the bench's clock starts
    dashboard_views: ClassVar[tuple[str, ...]] = ()  # extra dashboard tabs, names from DASHBOARD_VIEWS

    def __init__(self, config, data, device: torch.device, nets: dict[str, nn.Module] | None = None):
        self.config, self.data, self.device = config, data, device
        built = nets if nets is not None else self.build_nets(config, DataSpec.of(data))
        self.nets: dict[str, nn.Module] = {k: v.to(device).train() for k, v in built.items()}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.averaged: dict[str, nn.Module] = {}  # EMA copies, filled in by the loop (see ema_nets)

    # --- what a family implements ------------------------------------------------------------
    @classmethod
    @abstractmethod
    def build_nets(cls, config, spec: DataSpec) -> dict[str, nn.Module]:
        """The family's nets by name, freshly initialised (seeded by the loop)."""

    @classmethod
    def load_data(cls, config):
        """The training data ``config.data`` names (a :class:`~toolkit.data.TensorData` by default)."""
        from ..data import load_dataset

        return load_dataset(config.data, resolution=config.resolution, limit=config.limit, seed=config.seed)

    @classmethod
    def callbacks(cls, config) -> list:
        """Callbacks the config turns on (measurements while training, e.g. the gan family's FID)."""
        return []

    @classmethod
    def needs(cls, config) -> tuple[str, ...]:
        """The batch keys this family's step reads, e.g. ("image",) or ("image", "label")."""
        return ("image",)

    @abstractmethod
    def phases(self) -> list[Phase]:
        """The phases of one training step, in order."""

    @abstractmethod
    def grid(self) -> tuple[torch.Tensor, int | None]:
        """(images for the sample grid, images per row or None), from fixed inputs."""

    @classmethod
    def sampler(cls, nets: dict[str, nn.Module], config: dict, family_state: dict) -> nn.Module:
        """The module that draws samples from a trained run (``sample``, ``eval``, the dashboard)."""
        raise ToolkitError(f"--model {config['model']} has no generator to sample from")

    def apply_settings(self, settings: dict) -> None:
        """Apply steered settings (already validated, names from ``steerable``) to optimizers etc."""

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None: ...

    # --- shared helpers ------------------------------------------------------------------------
    def sampling_net(self, name: str) -> nn.Module:
        """The net to draw samples from: its EMA copy when the loop keeps one."""
        return self.averaged.get(name, self.nets[name])

    @staticmethod
    def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
        for group in optimizer.param_groups:
            group["lr"] = float(lr)

    def set_betas(self) -> None:
        """Give every optimizer the config's Adam betas (after they were changed on resume)."""
        for optimizer in self.optimizers.values():
            for group in optimizer.param_groups:
                group["betas"] = (float(self.config.beta1), float(self.config.beta2))

    @classmethod
    def check_data(cls, config, data) -> None:
        """A one-line error when the dataset does not give the batch keys this family needs."""
        missing = [k for k in cls.needs(config) if k not in data.keys]
        if missing:
            hint = " (put one sub-folder per class)" if missing == ["label"] else ""
            raise ToolkitError(
                f"--model {config.model} needs batches with {', '.join(cls.needs(config))}, but "
                f"{data.name} gives {', '.join(data.keys)}{hint}"
            )
