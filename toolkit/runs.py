"""The run directory: the one format the training loop writes and the CLI, notebooks and the
dashboard read. This module is the one owner of every file in it: their names, what config.json and a
checkpoint hold, and how both are written and read back.

::

    RUN_DIR/
      config.json          every setting (re-create the run with it) plus what the data turned out to be:
                           written by :func:`config_contents`, its data part read by :func:`data_description`
      metrics.jsonl        one JSON object per logged step: always "step" and "time", plus
                           loss_g, loss_d, d_real_acc, ... where they apply
      samples/step_000500.png   sample grids from a fixed set of latent vectors
      checkpoints/last.pt  everything needed to resume, written atomically (:func:`checkpoint_contents`,
                           :func:`save_checkpoint`, :func:`load_checkpoint`)
      events.jsonl         notes: started, resumed, settings changed, stopped, diverged
      evaluations.jsonl    one row per ``eval`` (step, fid, kid, ...): :func:`record_evaluation`,
                           :meth:`Run.evaluations`
      directions/area.pt   latent directions (``toolkit/directions.py``), named by :func:`direction_path`
      job.json, train.log, control.json   a dashboard job: its pid, its output, settings to steer
      .lock                the training process's lock (``toolkit/run_lock.py``)

The training loop writes through :class:`RunWriter` and :func:`save_checkpoint`; ``sample``, ``eval``, the
dashboard and the lessons read through :class:`Run`. Rebuilding a trained run's nets needs the families,
so it lives with sampling (``toolkit/generate.py``: ``load_nets``, ``load_generator``).

A checkpoint (format 2) holds, by name: ``nets``, ``ema`` (EMA copies), ``optimizers``, plus
``family_state`` (e.g. an augmentation's p), ``batches`` (the data position), the RNG states, the
half-finished logging interval, ``step`` and ``config``. Checkpoints from before the engine redesign
(format 1: "G", "D", "G_ema", "opt_g", "opt_d", "augment") are converted when they are loaded.

Writers never leave a half-written file in place (``toolkit/files.py``: a temporary file renamed over the
target); JSONL rows are appended one whole line at a time and flushed. Readers skip a partial last line
(a writer may be mid-append).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Iterator

import torch

from . import __version__
from .data.fingerprint import data_fingerprint
from .errors import ToolkitError
from .files import atomic_write, atomic_write_text, read_jsonl
from .run_lock import lock_run_dir, unlock_run_dir

CONFIG = "config.json"
METRICS = "metrics.jsonl"
EVENTS = "events.jsonl"
EVALUATIONS = "evaluations.jsonl"
SAMPLES = "samples"
CHECKPOINTS = "checkpoints"
LAST_CHECKPOINT = "checkpoints/last.pt"
JOB = "job.json"  # a dashboard job's pid, start time and command (toolkit/jobs.py)
TRAIN_LOG = "train.log"  # a dashboard job's output
CONTROL = "control.json"  # settings the dashboard asks a running job to change (toolkit/jobs.py)
PAUSED = "paused.json"  # when a paused dashboard job was paused (toolkit/jobs.py)
DIRECTIONS = "directions"  # latent directions, one .pt per attribute (toolkit/directions.py)
CHECKPOINT_FORMAT = 2


def direction_path(run_dir: str | Path, attribute: str) -> Path:
    """Where the run's latent direction for ``attribute`` is stored: directions/<attribute>.pt, the name made
    safe for a file name ("T-shirt/top" -> t-shirt-top.pt)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in str(attribute).strip().lower()).strip(
        "-."
    )
    if not safe:
        raise ToolkitError(f"{attribute!r} cannot name a direction; give an attribute name")
    return Path(run_dir) / DIRECTIONS / f"{safe}.pt"


# --- config.json ------------------------------------------------------------------------------------------
def config_contents(
    config,
    family: str,
    data,
    data_passed_in: bool,
    world_size: int,
    *,
    precision_used: str,
    memory_format_used: str,
) -> dict:
    """config.json's content: every setting, plus what the data turned out to be (read back by
    :func:`data_description`), who trained it and how many processes did, and what ``--precision`` and
    ``--memory-format`` resolved to on its hardware (``precision_used``, ``memory_format_used``: a resumed
    run keeps them, ``toolkit/training/checkpoint.py``)."""
    return {
        **dataclasses.asdict(config),
        "precision_used": precision_used,  # "bf16" or "fp32"
        "memory_format_used": memory_format_used,  # "channels-last" or "contiguous"
        "family": family,
        "sample_shape": list(data.shape),
        **({"target_shape": list(data.shape_b)} if hasattr(data, "shape_b") else {}),
        "kind": data.kind,
        "class_names": data.class_names,
        "data_info": data.info,
        "data_passed_in": data_passed_in,  # resume then needs it again (with_data=)
        # what that data was: config.data names only the default, not the subset actually trained on
        "passed_in_data": data_fingerprint(data) if data_passed_in else None,
        "world_size": world_size,  # processes that trained it (last start or resume)
        "effective_batch": config.batch_size * world_size,  # images per optimizer step
        "toolkit_version": __version__,
    }


def data_description(config: dict) -> dict:
    """What config.json says of the data, as ``DataSpec``'s fields: ``shape`` (one sample; for translation
    one A image), ``kind``, ``num_classes`` and ``shape_b`` (one B image, or ())."""
    return {
        "shape": tuple(config["sample_shape"]),
        "kind": config["kind"],
        "num_classes": len(config.get("class_names") or []),
        "shape_b": tuple(config.get("target_shape") or ()),
    }


# --- checkpoints ------------------------------------------------------------------------------------------
def checkpoint_contents(trainer) -> dict:
    """What a checkpoint holds (format 2), from a :class:`~toolkit.training.Trainer`: generic over the
    family's names. Read back by ``toolkit/training/checkpoint.py`` (resume) and :class:`Run`."""
    family = trainer.family
    return {
        "format": CHECKPOINT_FORMAT,
        "step": trainer.step,
        "family": family.name,
        "nets": {n: net.state_dict() for n, net in family.nets.items()},
        "ema": {n: ema.model.state_dict() for n, ema in trainer.ema.items()},
        "optimizers": {n: opt.state_dict() for n, opt in family.optimizers.items()},
        "family_state": family.state_dict(),
        "batches": trainer.batches.state_dict(),
        "rng_cpu": torch.get_rng_state(),
        "rng_cuda": torch.cuda.get_rng_state_all() if trainer.device.type == "cuda" else [],
        "log_sums": {k: v.cpu() for k, v in trainer.interval.sums.items()},  # the half-finished interval
        "log_count": trainer.interval.count,
        "elapsed": trainer.elapsed,
        "config": json.loads(json.dumps(trainer.describe())),  # plain types only (weights_only loading)
    }


def save_checkpoint(path: str | Path, state: dict) -> Path:
    """Write a checkpoint atomically: a crash mid-write, or a full disk, leaves the previous one in place."""
    try:
        atomic_write(path, lambda f: torch.save(state, f))
    except (OSError, RuntimeError) as exc:  # torch's zip writer reports a failed write as RuntimeError
        raise ToolkitError(
            f"could not write the checkpoint {path} ({exc.strerror or exc}); the previous "
            "checkpoint is kept: free some disk space, then resume"
        ) from None
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

    It takes the directory's lock (see :func:`lock_run_dir`) and keeps it until :meth:`close`.
    ``fresh=True`` starts a new run there. Files of an earlier run in the folder (metrics, events,
    sample grids, a checkpoint) are an error unless ``overwrite=True``, which removes them first (a
    lesson's cell run again starts clean that way); nothing is removed without it.
    """

    def __init__(self, run_dir: str | Path, fresh: bool = False, overwrite: bool = False):
        self.dir = check_writable(run_dir)
        lock_run_dir(self.dir)
        mine = [
            *self.dir.glob(f".{METRICS}.*.tmp"),
            *self.dir.glob(f".{CONFIG}.*.tmp"),
            *(self.dir / CHECKPOINTS).glob(".*.tmp"),
            *(self.dir / SAMPLES).glob(".*.tmp"),
        ]
        for stale in mine:
            stale.unlink(missing_ok=True)  # half-written files of a writer that was killed (we hold the lock)
        if fresh:
            earlier = [n for n in (METRICS, EVENTS, LAST_CHECKPOINT) if (self.dir / n).exists()]
            grids = list((self.dir / SAMPLES).glob("step_*.png"))
            if (earlier or grids) and not overwrite:
                unlock_run_dir(self.dir)
                found = ", ".join(earlier + ([f"{len(grids)} sample grids"] if grids else []))
                raise ToolkitError(
                    f"{self.dir} holds files of an earlier run ({found}); choose a new --run-dir, "
                    "or add --overwrite to replace them"
                )
            for name in earlier:
                (self.dir / name).unlink()
            for grid in grids:
                grid.unlink()
        (self.dir / SAMPLES).mkdir(exist_ok=True)
        (self.dir / CHECKPOINTS).mkdir(exist_ok=True)
        self._metrics = None

    def lock(self) -> None:
        """Take the lock again (a trainer that finished one ``fit`` and starts another)."""
        lock_run_dir(self.dir)

    def write_config(self, config: dict) -> None:
        atomic_write_text(self.dir / CONFIG, json.dumps(config, indent=2, sort_keys=True) + "\n")

    def truncate_metrics(self, last_step: int) -> None:
        """On resume: drop rows logged after the checkpoint (they will be logged again), and rows
        marked ``partial`` (an interval cut short by the end of a call; the checkpoint holds its sums)."""
        self._close_metrics()
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

    def _close_metrics(self) -> None:
        if self._metrics is not None:
            self._metrics.close()
            self._metrics = None

    def close(self) -> None:
        """Close the metrics file and release the directory's lock."""
        self._close_metrics()
        unlock_run_dir(self.dir)


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
            config = json.loads((self.dir / CONFIG).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ToolkitError(f"{self.dir} is not a run directory (no {CONFIG})") from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ToolkitError(
                f"{self.dir / CONFIG} is not valid JSON; the run cannot be re-created from it"
            ) from None
        if not isinstance(config, dict):
            raise ToolkitError(f"{self.dir / CONFIG} holds a {type(config).__name__}, not the run's settings")
        return config

    def metrics(self) -> list[dict]:
        """Every complete row that has a numeric "step" and "time" (others are skipped)."""
        return read_jsonl(self.dir / METRICS, require=("step", "time"))

    def events(self) -> list[dict]:
        return read_jsonl(self.dir / EVENTS)

    def evaluations(self) -> list[dict]:
        """Rows of evaluations.jsonl with a numeric "step" and "fid" (see :func:`record_evaluation`)."""
        return read_jsonl(self.dir / EVALUATIONS, require=("step", "fid"))

    def grid_at(self, step: int) -> tuple[int, Path] | None:
        """The latest sample grid at or before ``step`` (so runs are compared at the same point), or None."""
        earlier = [(s, p) for s, p in self.sample_grids() if s <= step]
        return earlier[-1] if earlier else None

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


EVALUATION_KEY = ("step", "features", "n_fake", "n_real", "seed")


def record_evaluation(run_dir: str | Path, step: int, seed: int, scores: dict) -> dict:
    """Add one ``eval`` result to RUN_DIR/evaluations.jsonl (rewritten atomically) and return its row. One row
    per (step, features, sample counts, seed): the same evaluation again replaces its row."""
    path = Path(run_dir) / EVALUATIONS
    row = {"step": step, "wall_time": time.time(), "seed": seed, **scores}
    rows = [r for r in read_jsonl(path) if any(r.get(k) != row[k] for k in EVALUATION_KEY)]
    atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in [*rows, row]))
    return row


def list_runs(root: str | Path) -> list[Run]:
    """Run directories directly under ``root`` (or nested one level deeper), newest first. A folder where the
    dashboard started a job (``job.json``) counts even before (or without) its config.json, so a job that
    died while starting is listed and its log can be shown."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = {
        p.parent for pattern in ("*/", "*/*/") for name in (CONFIG, JOB) for p in root.glob(pattern + name)
    }

    def newest(d: Path) -> float:
        return max((d / n).stat().st_mtime for n in (CONFIG, JOB) if (d / n).exists())

    return [Run(d) for d in sorted(found, key=newest, reverse=True)]


def iter_metric(rows: list[dict], key: str) -> Iterator[tuple[int, float]]:
    for r in rows:
        if key in r and r[key] is not None:
            yield r["step"], r[key]
