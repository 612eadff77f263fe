"""The run directory: the one format the training loop writes and the CLI, notebooks and the
dashboard read.

::

    RUN_DIR/
      config.json          every setting (re-create the run with it)
      metrics.jsonl        one JSON object per logged step: always "step" and "time", plus
                           loss_g, loss_d, d_real_acc, ... where they apply
      samples/step_000500.png   sample grids from a fixed set of latent vectors
      checkpoints/last.pt  everything needed to resume, written atomically
      events.jsonl         notes: started, resumed, settings changed, stopped, diverged

This module is the one owner of that format: the training loop writes through :class:`RunWriter` and
:func:`save_checkpoint`; ``sample``, ``eval``, the dashboard and the lessons read through :class:`Run`
(``Run(dir).load_generator()`` rebuilds a trained generator from config.json and the checkpoint).

A checkpoint (format 2) holds, by name: ``nets``, ``ema`` (EMA copies), ``optimizers``, plus
``family_state`` (e.g. an augmentation's p), ``batches`` (the data position), the RNG states, the
half-finished logging interval, ``step`` and ``config``. Checkpoints from before the engine redesign
(format 1: "G", "D", "G_ema", "opt_g", "opt_d", "augment") are converted when they are loaded.

Writers never leave a half-written file in place: whole files are written to a temporary name and
renamed (``os.replace`` is atomic on POSIX and Windows); JSONL rows are appended one whole line
at a time and flushed. Readers skip a partial last line (a writer may be mid-append).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from torch import nn

from .errors import ToolkitError

CONFIG = "config.json"
METRICS = "metrics.jsonl"
EVENTS = "events.jsonl"
SAMPLES = "samples"
CHECKPOINTS = "checkpoints"
LAST_CHECKPOINT = "checkpoints/last.pt"


def atomic_write(path: str | Path, write: Callable[[Any], None], mode: str = "wb") -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes it private (0600); runs are meant to be read by others too
        with os.fdopen(fd, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text), mode="w")


def save_checkpoint(path: str | Path, state: dict) -> Path:
    """Write a checkpoint atomically: a crash mid-write leaves the previous one in place."""
    atomic_write(path, lambda f: torch.save(state, f))
    return Path(path)


def load_checkpoint(path: str | Path, device="cpu") -> dict:
    """Load a checkpoint safely (``weights_only=True``: tensors and plain containers, never code)."""
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise ToolkitError(f"checkpoint {path} does not exist") from None
    except Exception as exc:  # truncated file, not a torch file, unsafe pickle...
        raise ToolkitError(
            f"cannot load checkpoint {path} ({type(exc).__name__}); it is damaged or not a toolkit checkpoint"
        ) from None
    if isinstance(state, dict) and "G" in state and "nets" not in state:
        state = _from_format_1(state)
    if not isinstance(state, dict) or not isinstance(state.get("nets"), dict) or "config" not in state:
        raise ToolkitError(f"{path} is not a toolkit checkpoint (no network weights or config inside)")
    return state


def _from_format_1(old: dict) -> dict:
    """A checkpoint written before the engine redesign (one G, one D), in today's format."""
    return {
        **{
            k: old[k]
            for k in ("step", "rng_cpu", "rng_cuda", "log_sums", "log_count", "elapsed", "config")
            if k in old
        },
        "format": 2,
        "family": "gan",
        "nets": {"G": old["G"], "D": old["D"]},
        "ema": {"G": old["G_ema"]} if old.get("G_ema") is not None else {},
        "optimizers": {"G": old["opt_g"], "D": old["opt_d"]} if "opt_g" in old else {},
        "family_state": {"augment": old.get("augment")},
        "batches": old.get("sampler", {}),
    }


def read_jsonl(path: str | Path) -> list[dict]:
    """All complete rows of a JSONL file; a missing file is empty; a torn or corrupt line is skipped."""
    rows = []
    if not Path(path).is_file():
        return rows
    with open(path, "r", encoding="utf-8") as f:
        for line in f:
            if not line.endswith("\n"):
                break  # partial last line: the writer is still appending it
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict):
                rows.append(row)
    return rows


def check_writable(run_dir: str | Path) -> Path:
    """Create ``run_dir`` if needed and prove a file can be written there, else a one-line error."""
    run_dir = Path(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ToolkitError(
            f"cannot write to run directory {run_dir} ({exc.strerror}); choose another --run-dir"
        ) from None
    return run_dir


def default_runs_root() -> Path:
    """Where runs go unless told otherwise, and where the dashboard looks: ``$TOOLKIT_RUNS_DIR``, else
    the ``runs/`` folder of the project checkout we are in (found by walking up from the current
    folder, so a notebook in ``lessons/`` and the dashboard at the root share it), else ``./runs``."""
    if os.environ.get("TOOLKIT_RUNS_DIR"):
        return Path(os.environ["TOOLKIT_RUNS_DIR"]).expanduser()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "toolkit" / "__init__.py").is_file() and (folder / "pyproject.toml").is_file():
            return folder / "runs"
    return here / "runs"


class RunWriter:
    """Appends to a run directory. Holds the metrics file open; each row is one flushed line.

    ``fresh=True`` starts a new run there: files of an earlier run in the same folder (metrics,
    events, samples, checkpoint) are removed first, so re-running a notebook cell starts clean.
    """

    def __init__(self, run_dir: str | Path, fresh: bool = False):
        self.dir = check_writable(run_dir)
        if fresh:
            for name in (METRICS, EVENTS, LAST_CHECKPOINT):
                (self.dir / name).unlink(missing_ok=True)
            for grid in (self.dir / SAMPLES).glob("step_*.png"):
                grid.unlink()
        (self.dir / SAMPLES).mkdir(exist_ok=True)
        (self.dir / CHECKPOINTS).mkdir(exist_ok=True)
        self._metrics = None

    def write_config(self, config: dict) -> None:
        atomic_write_text(self.dir / CONFIG, json.dumps(config, indent=2, sort_keys=True) + "\n")

    def truncate_metrics(self, last_step: int) -> None:
        """On resume: drop rows logged after the checkpoint (they will be logged again), and rows
        marked ``partial`` (an interval cut short by the end of a call; the checkpoint holds its sums)."""
        self.close()
        rows = [
            r
            for r in read_jsonl(self.dir / METRICS)
            if r.get("step", 0) <= last_step and not r.get("partial")
        ]
        atomic_write_text(self.dir / METRICS, "".join(json.dumps(r) + "\n" for r in rows))

    def log(self, row: dict) -> None:
        if self._metrics is None:
            self._metrics = open(self.dir / METRICS, "a", encoding="utf-8")
        self._metrics.write(json.dumps(row) + "\n")
        self._metrics.flush()

    def event(self, kind: str, **details) -> None:
        with open(self.dir / EVENTS, "a", encoding="utf-8") as f:
            f.write(json.dumps({"event": kind, "wall_time": time.time(), **details}) + "\n")

    def sample_path(self, step: int) -> Path:
        return self.dir / SAMPLES / f"step_{step:06d}.png"

    def save_grid(self, step: int, images: torch.Tensor, nrow: int | None = None) -> None:
        from .viz import save_grid

        save_grid(images, self.sample_path(step), nrow=nrow)

    def close(self) -> None:
        if self._metrics is not None:
            self._metrics.close()
            self._metrics = None


class Run:
    """Read-only view of a run directory (tolerant: any part may be missing or still being written)."""

    def __init__(self, run_dir: str | Path):
        self.dir = Path(run_dir)

    @property
    def name(self) -> str:
        return self.dir.name

    def exists(self) -> bool:
        return (self.dir / CONFIG).is_file()

    def config(self) -> dict:
        try:
            return json.loads((self.dir / CONFIG).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ToolkitError(f"{self.dir} is not a run directory (no {CONFIG})") from None
        except json.JSONDecodeError:
            raise ToolkitError(
                f"{self.dir / CONFIG} is not valid JSON; the run cannot be re-created from it"
            ) from None

    def metrics(self) -> list[dict]:
        return read_jsonl(self.dir / METRICS)

    def events(self) -> list[dict]:
        return read_jsonl(self.dir / EVENTS)

    def sample_grids(self) -> list[tuple[int, Path]]:
        grids = []
        for p in (self.dir / SAMPLES).glob("step_*.png"):
            try:
                grids.append((int(p.stem.split("_")[1]), p))
            except (IndexError, ValueError):
                continue
        return sorted(grids)

    def checkpoint_path(self) -> Path | None:
        p = self.dir / LAST_CHECKPOINT
        return p if p.is_file() else None

    def load_checkpoint(self, device="cpu") -> dict:
        ckpt = self.checkpoint_path()
        if not self.dir.is_dir():
            raise ToolkitError(f"run directory {self.dir} does not exist")
        if ckpt is None:
            raise ToolkitError(
                f"{self.dir} has no checkpoint yet ({LAST_CHECKPOINT}); wait for the first one or "
                "train longer"
            )
        return load_checkpoint(ckpt, device)

    def load_nets(self, device="cpu", use_ema: bool = True) -> tuple[dict[str, nn.Module], dict, dict]:
        """Rebuild the run's nets from config.json and load the checkpoint, in eval mode: EMA weights where
        the run kept them (``use_ema``). Returns (nets by name, config with "checkpoint_step", family
        state)."""
        from .families import DataSpec, family_for

        if not self.dir.is_dir():
            raise ToolkitError(f"run directory {self.dir} does not exist")
        config = self.config()
        state = self.load_checkpoint(device)
        if not isinstance(config, dict) or "model" not in config or "sample_shape" not in config:
            raise ToolkitError(
                f"{self.dir / CONFIG} is not a toolkit run's config (no model or sample_shape)"
            )
        family = family_for(config["model"])
        nets = family.build_nets(family.Config.from_dict(config), DataSpec.from_config(config))
        for name, net in nets.items():
            weights = state["ema"].get(name) if use_ema else None
            try:
                net.load_state_dict(weights if weights is not None else state["nets"][name])
            except (RuntimeError, KeyError):
                raise ToolkitError(
                    f"the checkpoint in {self.dir} does not match its config.json (model "
                    f"{config['model']!r}); was it copied from another run?"
                ) from None
            net.to(device).eval()
        config["checkpoint_step"] = int(state["step"])
        return nets, config, state.get("family_state", {})

    def load_generator(self, device="cpu", use_ema: bool = True) -> tuple[nn.Module, dict]:
        """The run's generator, ready to sample: ``G(z)`` (``G(z, y)`` for conditional models), in eval mode.
        A family whose generator needs more than z (PGGAN's stage) wraps it (see its ``sampler``)."""
        from .families import family_for

        nets, config, family_state = self.load_nets(device, use_ema)
        return family_for(config["model"]).sampler(nets, config, family_state), config


def list_runs(root: str | Path) -> list[Run]:
    """Run directories directly under ``root`` (or nested one level deeper), newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [Run(p.parent) for p in root.glob("*/" + CONFIG)] + [
        Run(p.parent) for p in root.glob("*/*/" + CONFIG)
    ]
    return sorted(
        found,
        key=lambda r: (r.dir / CONFIG).stat().st_mtime if (r.dir / CONFIG).exists() else 0,
        reverse=True,
    )


def iter_metric(rows: list[dict], key: str) -> Iterator[tuple[int, float]]:
    for r in rows:
        if key in r and r[key] is not None:
            yield r["step"], r[key]
