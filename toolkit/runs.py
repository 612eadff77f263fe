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

import collections
import json
import os
import tempfile
import threading
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


def parse_jsonl(data: bytes, require: tuple[str, ...] = ()) -> list[dict]:
    """The JSON-object rows of complete lines; a corrupt, non-UTF-8 or non-object line, or a row lacking
    one of ``require`` (or holding a non-number there), is skipped."""
    rows = []
    for line in data.splitlines():
        try:
            row = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(row, dict) and all(isinstance(row.get(k), (int, float)) for k in require):
            rows.append(row)
    return rows


def read_jsonl(path: str | Path, require: tuple[str, ...] = ()) -> list[dict]:
    """All complete rows of a JSONL file; a missing file is empty; a torn last line (a writer is still
    appending it) and corrupt lines are skipped (see :func:`parse_jsonl`)."""
    try:
        data = Path(path).read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return []
    return parse_jsonl(data[: data.rfind(b"\n") + 1], require)


class MetricsTail:
    """metrics.jsonl read incrementally, kept as columns, for a dashboard that refreshes every 2 s.

    Each :meth:`refresh` parses only the lines appended since the last one (a file replaced by a resume,
    which rewrites it atomically, is read again from the start). :meth:`series` returns one key's
    (steps, values), thinned to at most ``max_points`` evenly spaced points, so drawing a chart costs the
    same at a thousand rows as at a million."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.columns: dict[str, tuple[list, list]] = {}
        self.recent: collections.deque = collections.deque(maxlen=50)  # the last rows, whole (for alarms)
        self.last: dict = {}
        self.count = 0
        self._offset, self._file_id = 0, None
        self._lock = threading.Lock()  # the dashboard shares one reader between browser sessions

    def refresh(self) -> "MetricsTail":
        with self._lock:
            return self._refresh()

    def _refresh(self) -> "MetricsTail":
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            st = None
        file_id = None if st is None else (st.st_ino, st.st_dev)
        if file_id != self._file_id or (st is not None and st.st_size < self._offset):
            self.columns, self.last, self.count, self._offset = {}, {}, 0, 0  # a new file: start over
            self.recent.clear()
            self._file_id = file_id
        if st is None or st.st_size == self._offset:
            return self
        with open(self.path, "rb") as f:
            f.seek(self._offset)
            data = f.read()
        end = data.rfind(b"\n") + 1  # only complete lines; a torn last one is read next time
        self._offset += end
        for row in parse_jsonl(data[:end], require=("step", "time")):
            for k, v in row.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "step":
                    steps, values = self.columns.setdefault(k, ([], []))
                    steps.append(row["step"])
                    values.append(v)
            self.last = row
            self.recent.append(row)
            self.count += 1
        return self

    def progress(self, total_steps: int, batch_size: int, window: int = 10) -> dict:
        """Where the run is: its step of ``total_steps``, and, from the last ``window`` logged rows, images
        per second and seconds left (None until two rows exist)."""
        steps, times = self.columns.get("time", ([], []))
        out = {
            "step": steps[-1] if steps else 0,
            "total": total_steps,
            "images_per_s": None,
            "seconds_left": None,
        }
        if len(steps) >= 2:
            i = max(0, len(steps) - 1 - window)
            dt = times[-1] - times[i]
            if dt > 0:
                rate = (steps[-1] - steps[i]) / dt
                out["images_per_s"] = rate * batch_size
                out["seconds_left"] = max(0.0, (total_steps - steps[-1]) / rate) if rate > 0 else None
        return out

    def series(self, key: str, max_points: int = 2000) -> tuple[list, list]:
        steps, values = self.columns.get(key, ([], []))
        stride = max(1, -(-len(steps) // max_points))
        if stride == 1:
            return steps, values
        keep = list(range(0, len(steps), stride))
        if keep[-1] != len(steps) - 1:
            keep.append(len(steps) - 1)  # always the latest point
        return [steps[i] for i in keep], [values[i] for i in keep]


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


LOCK = ".lock"
_HELD: dict[str, Any] = {}  # run directories this process holds the lock of: resolved path -> open lock file


def lock_run_dir(run_dir: Path) -> None:
    """Take the run directory's exclusive lock (``RUN_DIR/.lock``, holding the pid), so two processes
    never train into one folder. The operating system drops the lock when its process dies, so a lock
    left by a killed run never blocks. A lock this process already holds (a notebook cell run again) is
    simply kept. Where ``fcntl`` is missing (Windows) there is no lock."""
    key = str(run_dir.resolve())
    if key in _HELD:
        return
    try:
        import fcntl
    except ImportError:
        return
    f = open(run_dir / LOCK, "a+", encoding="utf-8")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.seek(0)
        holder = f.read().strip() or "unknown"
        f.close()
        raise ToolkitError(
            f"another process (pid {holder}) is training in {run_dir}; wait for it to finish or "
            "stop it, or choose another --run-dir"
        ) from None
    f.seek(0)
    f.truncate()
    f.write(str(os.getpid()))
    f.flush()
    _HELD[key] = f


def lock_holder(run_dir: str | Path) -> int | None:
    """The pid of the process that holds ``run_dir``'s lock (a run training there now), or None.

    Read from the kernel's table of held locks (``/proc/locks``, matched by the lock file's inode), so a pid
    left in a stale lock file, perhaps reused by an unrelated process, is never taken for a training run.
    Where there is no ``/proc/locks`` the recorded pid counts while such a process exists."""
    path = Path(run_dir) / LOCK
    try:
        inode = os.stat(path).st_ino
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        table = Path("/proc/locks").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
            return pid
        except OSError:
            return None
    for line in table.splitlines():
        parts = line.split()
        if (
            "->" not in parts
            and "FLOCK" in parts
            and len(parts) >= 6
            and parts[5].rsplit(":", 1)[-1] == str(inode)
        ):
            return int(parts[4])
    return None


def unlock_run_dir(run_dir: Path) -> None:
    f = _HELD.pop(str(run_dir.resolve()), None)
    if f is not None:
        f.close()  # closing the file releases the lock


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
    """Run directories directly under ``root`` (or nested one level deeper), newest first. A folder where the
    dashboard started a job (``job.json``) counts even before (or without) its config.json, so a job that
    died while starting is listed and its log can be shown."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = {
        p.parent
        for pattern in ("*/", "*/*/")
        for name in (CONFIG, "job.json")
        for p in root.glob(pattern + name)
    }

    def newest(d: Path) -> float:
        return max((d / n).stat().st_mtime for n in (CONFIG, "job.json") if (d / n).exists())

    return [Run(d) for d in sorted(found, key=newest, reverse=True)]


def iter_metric(rows: list[dict], key: str) -> Iterator[tuple[int, float]]:
    for r in rows:
        if key in r and r[key] is not None:
            yield r["step"], r[key]
