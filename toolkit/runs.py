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
        raise ToolkitError(f"cannot write to run directory {run_dir} ({exc.strerror}); choose another --run-dir") from None
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
        rows = [r for r in read_jsonl(self.dir / METRICS) if r.get("step", 0) <= last_step and not r.get("partial")]
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
            raise ToolkitError(f"{self.dir / CONFIG} is not valid JSON; the run cannot be re-created from it") from None

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


def list_runs(root: str | Path) -> list[Run]:
    """Run directories directly under ``root`` (or nested one level deeper), newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [Run(p.parent) for p in root.glob("*/" + CONFIG)] + [Run(p.parent) for p in root.glob("*/*/" + CONFIG)]
    return sorted(found, key=lambda r: (r.dir / CONFIG).stat().st_mtime if (r.dir / CONFIG).exists() else 0,
                  reverse=True)


def iter_metric(rows: list[dict], key: str) -> Iterator[tuple[int, float]]:
    for r in rows:
        if key in r and r[key] is not None:
            yield r["step"], r[key]
