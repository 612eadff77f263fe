"""Configuration as plain dataclasses: each default written once, validated once, and the command line
built from the fields. A leaf: it imports nothing from the toolkit but its errors.

* :class:`RunConfig` holds what the training loop owns (length, batch size, seed, intervals, EMA,
  device). Every family's config extends it (``GANConfig``, ``PGGANConfig``, ...).
* Each field is declared with :func:`option`: its default and a one-line help. The command line
  (``python -m toolkit train --model NAME --help``) lists exactly these fields, for that model's family.
* One way builds a config: ``config_for(model, **settings)`` in the family registry
  (``toolkit/families/__init__.py``): the family's defaults, then the model's preset (the paper's
  settings, e.g. WGAN-GP's n_critic 5), then the settings the user gave. The CLI passes only the flags
  that were typed, so a preset is overridden only by a flag the user actually gave.
* ``validate()`` is the one place where values are checked; the CLI, the dashboard, steering and the
  lessons all go through it. A config made with its class directly (``GANConfig(model="wgan-gp")``) is
  checked against the model's objective (:func:`need_objective`) and refused if it would train another.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from .errors import ToolkitError

# the loop's settings that may change when a run is resumed (a family adds its own: Family.resumable)
PRECISIONS = ("auto", "bf16", "fp32")
MEMORY_FORMATS = ("auto", "channels-last", "contiguous")
RESUMABLE = (
    "steps",
    "device",
    "threads",
    "precision",
    "memory_format",
    "log_every",
    "sample_every",
    "checkpoint_every",
)


def option(default: Any, help: str, choices: tuple | list | None = None, cli: bool = True):
    """A config field with its default and help text (shown by ``--help``)."""
    return field(default=default, metadata={"help": help, "choices": choices, "cli": cli})


def need(ok: bool, message: str) -> None:
    """Raise a one-line :class:`ToolkitError` unless ``ok``."""
    if not ok:
        raise ToolkitError(message)


def flag(name: str) -> str:
    """The command-line spelling of a field: ``lr_g`` -> ``--lr-g``."""
    return "--" + name.replace("_", "-")


POSITIVE = "> 0"  # in an objective: any positive value of the field


def need_objective(config, what: str, required: dict) -> None:
    """Refuse a config that would train another objective than its model's: ``required`` maps fields to the
    value they must have (or :data:`POSITIVE`), ``what`` names the objective in words."""
    wrong = {
        k: v
        for k, v in required.items()
        if not (getattr(config, k) > 0 if v == POSITIVE else getattr(config, k) == v)
    }
    if wrong:
        want = ", ".join(f"{flag(k)} {v}" for k, v in required.items())
        got = ", ".join(f"{flag(k)} {getattr(config, k)}" for k in wrong)
        raise ToolkitError(
            f"--model {config.model} trains {what} ({want}), got {got}; leave these to the model's preset "
            f"(in Python: build the config with config_for({config.model!r}, ...))"
        )


def need_positive(config, *names: str) -> None:
    for name in names:
        value = getattr(config, name)
        need(
            isinstance(value, (int, float)) and math.isfinite(value) and value > 0,
            f"{flag(name)} must be a positive number, got {value}",
        )


def need_learning_rate(config, *names: str) -> None:
    """Learning rates: finite, positive and at most 1 (a larger one only ever diverges, and a steered one
    would be saved in the next checkpoint)."""
    for name in names:
        value = getattr(config, name)
        need(
            isinstance(value, (int, float)) and math.isfinite(value) and 0 < value <= 1,
            f"{flag(name)} must be a positive number no larger than 1, got {value}",
        )


def need_at_least(config, low: float, *names: str, off: bool = False) -> None:
    for name in names:
        value = getattr(config, name)
        need(
            value >= low, f"{flag(name)} must be >= {low:g}{' (0 turns it off)' if off else ''}, got {value}"
        )


@dataclass
class RunConfig:
    """What the training loop owns; every family's config extends it. Saved in config.json."""

    model: str = option("dcgan", "the model to train (python -m toolkit --help lists them)", cli=False)
    data: str = option("fashion-mnist", "a built-in dataset name, or the path of an image folder or .zip")
    steps: int = option(1500, "total training steps (with --resume: the run's own unless given)")
    batch_size: int = option(64, "images per batch")
    seed: int = option(0, "seed of weights, noise and data order")
    limit: int | None = option(None, "train on a seeded, class-balanced subset of N images")
    resolution: int | None = option(
        None,
        "image size, the images are resized to it (default: the dataset's: 32 for Fashion-MNIST, 64 "
        "for folders). "
        "dcgan/cgan/acgan/wgan(-gp): 32 or 64; pggan: 8, 16, 32, 64, ...; on a CPU prefer 32",
    )
    ema: float = option(0.99, "EMA decay of the sampling network(s); 0 turns the EMA off")
    log_every: int = option(25, "write a metrics row every N steps (one host sync per row)")
    sample_every: int = option(250, "save a sample grid every N steps (0: only at the end)")
    checkpoint_every: int = option(250, "write checkpoints/last.pt every N steps (0: only at the end)")
    grid_size: int = option(64, "samples in each saved grid (from fixed inputs)")
    device: str = option("auto", "auto, cpu, cuda or mps")
    threads: int | None = option(
        None, "CPU threads for torch (default: $TOOLKIT_THREADS, $OMP_NUM_THREADS, else all cores up to 8)"
    )
    precision: str = option(
        "auto",
        "auto (bf16 autocast where it is native: a CUDA GPU with bf16, a CPU with AVX-512 BF16 or AMX; "
        "else fp32; the choice is saved in config.json and kept on --resume), bf16 or fp32",
        choices=PRECISIONS,
    )
    memory_format: str = option(
        "auto",
        "image layout: auto (channels-last on CUDA, else contiguous; kept on --resume), channels-last or "
        "contiguous",
        choices=MEMORY_FORMATS,
    )

    def validate(self):
        """Check every setting; a bad one raises a one-line ToolkitError naming the flag. Returns self.
        (Whether the model exists is its family's config's check: this class knows no family.)"""
        need(self.steps >= 1, f"--steps must be >= 1, got {self.steps}")
        need(self.batch_size >= 1, f"--batch-size must be >= 1, got {self.batch_size}")
        need(self.limit is None or self.limit >= 1, f"--limit must be >= 1, got {self.limit}")
        need(
            self.resolution is None or self.resolution >= 1,
            f"--resolution must be >= 1, got {self.resolution}",
        )
        need(0 <= self.ema < 1, f"--ema must be in [0, 1) (0 turns it off), got {self.ema}")
        need(self.log_every >= 1, "--log-every must be >= 1")
        need_at_least(self, 0, "sample_every", "checkpoint_every", off=True)
        need(self.grid_size >= 1, "--grid-size must be >= 1")
        need(self.threads is None or self.threads >= 1, f"--threads must be >= 1, got {self.threads}")
        need(self.precision in PRECISIONS, f"--precision must be one of {', '.join(PRECISIONS)}")
        need(
            self.memory_format in MEMORY_FORMATS,
            f"--memory-format must be one of {', '.join(MEMORY_FORMATS)}",
        )
        return self

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        """Re-create a config from config.json (entries that are not settings are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def build_config(config_cls, model: str, presets: dict[str, dict], settings: dict):
    """``config_cls`` for ``model``: the class's defaults, then ``model``'s preset, then ``settings`` (they
    win). The registry's ``config_for`` (``toolkit/families/__init__.py``), the one way to build a config."""
    unknown = sorted(set(settings) - {f.name for f in dataclasses.fields(config_cls)})
    need(not unknown, f"{', '.join(flag(k) for k in unknown)} is not a setting of --model {model}")
    return config_cls(model=model, **{**presets.get(model, {}), **settings})


def cli_fields(config_cls) -> list[dataclasses.Field]:
    """The fields the command line offers as flags."""
    return [f for f in dataclasses.fields(config_cls) if f.metadata.get("cli", False)]


def field_type(f: dataclasses.Field) -> type:
    """int, float or str from a field's annotation (``int | None`` -> int)."""
    text = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    for t in (int, float, bool):
        if text.split("|")[0].strip() == t.__name__:
            return t
    return str
