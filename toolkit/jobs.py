"""Training runs in the background, for the dashboard: start, pause, resume, stop and steer.

A job is an ordinary ``python -m toolkit train`` process in its own session (so it survives the
browser and the Streamlit script), with one torch thread (several jobs and the dashboard share the
CPU), its output in ``RUN_DIR/train.log`` and its process id in ``RUN_DIR/job.json``.

* pause / resume: SIGSTOP / SIGCONT (the process simply freezes; nothing is lost). The pause's start is
  written to ``RUN_DIR/paused.json`` first, and the job's :class:`PauseClock` takes the frozen span out of
  the training time it stamps in metrics.jsonl (``time`` is training time: images/s and time left stay
  right across pauses). A ``kill -STOP`` from elsewhere leaves no such file and its span counts;
* stop: SIGTERM; the training loop finishes its step, writes a checkpoint and exits;
* delete / rename a run that no job is training in (a failed start included: its name is free again);
* steer: write ``RUN_DIR/control.json`` (e.g. ``{"lr_g": 5e-4}``). :class:`Steering`, a training
  callback the command line installs, reads it at each logging interval and hands it to
  ``Trainer.steer``, which validates it, applies it, rewrites config.json and records the change.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from .distributed import broadcast_object
from .errors import ToolkitError
from .families import family_for
from .files import atomic_write_text
from .run_lock import lock_holder
from .runs import CONTROL, JOB, PAUSED, TRAIN_LOG, Run

RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def train_command(run_dir: str | Path, args: list[str] = (), threads: int = 1) -> list[str]:
    """``python -m toolkit train --run-dir RUN_DIR --threads N --no-progress ARGS`` for this interpreter."""
    return [
        sys.executable,
        "-m",
        "toolkit",
        "train",
        "--run-dir",
        str(run_dir),
        "--threads",
        str(threads),
        "--no-progress",
        *args,
    ]


def start_job(run_dir: str | Path, args: list[str]) -> int:
    """Start ``python -m toolkit train --run-dir RUN_DIR ARGS`` in the background; returns its pid."""
    run_dir = Path(run_dir)
    if job_state(run_dir) in ("running", "paused"):
        raise ToolkitError(f"a job is already running in {run_dir}; stop it first")
    run_dir.mkdir(parents=True, exist_ok=True)
    log = open(run_dir / TRAIN_LOG, "ab")
    cmd = train_command(run_dir, args)
    proc = subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    job = {"pid": proc.pid, "start_time": _start_time(proc.pid), "command": cmd}
    atomic_write_text(run_dir / JOB, json.dumps(job))
    return proc.pid


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat's fields after the command name (state first); None: no such process or no /proc."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _start_time(pid: int) -> str | None:
    """When the process started (clock ticks since boot): with the pid, it names one process for good."""
    fields = _stat(pid)
    return fields[19] if fields and len(fields) > 19 else None


def _is_toolkit_training(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc (macOS): nothing to check against
    return b"toolkit" in cmdline and b"train" in cmdline


def _job_pid(run_dir: Path) -> int | None:
    """The pid job.json names, if that very process (same start time) is still there: job.json is a file
    anyone could have edited, and a pid can be reused by an unrelated process after ours has ended."""
    try:
        job = json.loads((Path(run_dir) / JOB).read_text())
        pid = int(job["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    started = _start_time(pid)
    if started is None:  # gone, or no /proc: fall back to "a process with that pid exists"
        try:
            os.kill(pid, 0)
        except OSError:
            return None
        return pid if not Path("/proc").is_dir() else None
    if started != job.get("start_time"):
        return None
    return pid if _process_state(pid) == "Z" or _is_toolkit_training(pid) else None  # a zombie has no cmdline


def _process_state(pid: int) -> str | None:
    """'R', 'S', 'T' (stopped), 'Z' (zombie)... from /proc, or None if there is no such process."""
    fields = _stat(pid)
    if fields:
        return fields[0]
    try:
        os.kill(pid, 0)  # no /proc (macOS): alive, state unknown
        return "R"
    except OSError:
        return None


def training_pid(run_dir: str | Path) -> int | None:
    """The process training in ``run_dir`` now: the dashboard's job, or a run started from the command
    line (found through the run directory's lock), or None."""
    pid = _job_pid(Path(run_dir))
    if pid is not None and _process_state(pid) != "Z":
        return pid
    holder = lock_holder(run_dir)
    return holder if holder is not None and _is_toolkit_training(holder) else None


def job_state(run_dir: str | Path) -> str:
    """running, paused, finished, stopped, diverged, crashed, or idle (nothing was started here yet)."""
    pid = _job_pid(Path(run_dir))
    if pid is not None and _process_state(pid) == "Z":  # our own child that has exited: reap it
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    pid = training_pid(run_dir)
    if pid is not None:
        return "paused" if _process_state(pid) in ("T", "t") else "running"
    events = Run(run_dir).events()
    last = events[-1]["event"] if events else None
    if last in ("finished", "stopped", "diverged"):
        return last
    started = (Path(run_dir) / JOB).exists() or last is not None
    return "crashed" if started else "idle"


def _signal(run_dir: str | Path, sig: int) -> None:
    pid = training_pid(run_dir)  # never a pid a file merely names: only a live toolkit training process
    if pid is None:
        raise ToolkitError(f"no job is running in {run_dir}")
    os.kill(pid, sig)


def pause_job(run_dir):
    """Freeze the job (SIGSTOP), first writing when, so that its :class:`PauseClock` leaves the pause out of
    its training time."""
    if training_pid(run_dir) is None:
        raise ToolkitError(f"no job is running in {run_dir}")
    if job_state(run_dir) != "paused":
        atomic_write_text(Path(run_dir) / PAUSED, json.dumps({"since": time.time()}))
    _signal(run_dir, signal.SIGSTOP)


def resume_job(run_dir):
    _signal(run_dir, signal.SIGCONT)


class PauseClock:
    """The training loop's clock (``Trainer.clock``): ``time.perf_counter()`` less the time the process spent
    frozen by :func:`pause_job`. On SIGCONT it reads ``RUN_DIR/paused.json`` (the pause's start, written by
    pause_job), adds the span to :attr:`frozen` and removes the file. Installed from the main thread."""

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / PAUSED
        self.path.unlink(missing_ok=True)  # left by a job killed while paused: not this process's pause
        self.frozen = 0.0
        signal.signal(signal.SIGCONT, self._continued)

    def _continued(self, signum=None, frame=None) -> None:
        try:
            since = float(json.loads(self.path.read_text())["since"])
        except (OSError, ValueError, KeyError, TypeError):
            return  # continued without a recorded pause (kill -STOP from a terminal): nothing to take out
        self.path.unlink(missing_ok=True)
        self.frozen += max(0.0, time.time() - since)

    def __call__(self) -> float:
        return time.perf_counter() - self.frozen


def _check_free(run_dir: Path) -> None:
    if training_pid(run_dir) is not None:
        raise ToolkitError(f"a job is training in {run_dir}; stop it first")
    if not ((run_dir / "config.json").exists() or (run_dir / JOB).exists()):
        raise ToolkitError(f"{run_dir} is not a run directory (no config.json or job.json); left as it is")


def delete_run(run_dir: str | Path) -> None:
    """Delete a run directory and everything in it (its name can be used again); refused while a job trains
    in it. Renamed aside first, so a half-deleted run is never listed."""
    run_dir = Path(run_dir)
    _check_free(run_dir)
    aside = run_dir.with_name(f".deleting-{run_dir.name}-{os.getpid()}")
    os.rename(run_dir, aside)
    shutil.rmtree(aside)


def rename_run(run_dir: str | Path, new_name: str) -> Path:
    """Give a run directory a new name beside it; refused while a job trains in it or when the name is
    taken or not a plain name. Returns the new path."""
    run_dir = Path(run_dir)
    if not RUN_NAME.fullmatch(new_name):
        raise ToolkitError(f"{new_name!r} is not a run name: use letters, digits, '-', '_', '.' and no '/'")
    target = run_dir.with_name(new_name)
    if target.exists():
        raise ToolkitError(f"{target} exists already; choose another name")
    _check_free(run_dir)
    os.rename(run_dir, target)
    return target


def stop_job(run_dir) -> None:
    if job_state(run_dir) == "paused":
        _signal(run_dir, signal.SIGCONT)  # a frozen process cannot handle SIGTERM
    _signal(run_dir, signal.SIGTERM)


def steer(run_dir: str | Path, **settings: float) -> None:
    """Ask the running job to change settings (e.g. learning rates) at its next logging interval.

    The names must be the run's family's ``steerable`` ones and the values pass the same validation as
    the command line's; the job validates them again before applying them."""
    config = Run(run_dir).config()
    family = family_for(config.get("model", ""))
    bad = [k for k in settings if k not in family.steerable]
    if bad:
        raise ToolkitError(f"cannot change {', '.join(bad)} during a run; only {', '.join(family.steerable)}")
    family.Config.from_dict({**config, **settings}).validate()
    atomic_write_text(Path(run_dir) / CONTROL, json.dumps(settings))


class Steering:
    """Training callback: applies RUN_DIR/control.json when it changes (checked at each log) through
    :meth:`Trainer.steer`, which validates, applies and records the change. A rejected file is recorded
    as a "rejected" event and changes nothing."""

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / CONTROL
        self._seen = self.path.stat().st_mtime_ns if self.path.exists() else None

    def on_log(self, trainer, row) -> None:
        # on several ranks rank 0 reads the file and every rank applies what it read, at the same step
        change = self._read() if trainer.world.is_main else None
        change = broadcast_object(change, trainer.world)
        if change is None:
            return
        try:
            if isinstance(change, str):
                raise ToolkitError(change)
            row.update(trainer.steer(**change))
        except (TypeError, ValueError, ToolkitError) as exc:
            if trainer.writer is not None:
                trainer.writer.event("rejected", step=trainer.step, reason=str(exc)[:200])

    def _read(self) -> dict | str | None:
        """None: nothing new; a dict: the settings to apply; a string: why the file was rejected."""
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return None
        if mtime == self._seen:
            return None
        self._seen = mtime
        try:
            settings = json.loads(self.path.read_text())
        except (OSError, ValueError) as exc:
            return str(exc)
        if not isinstance(settings, dict):
            return f"{self.path} must hold a JSON object of settings"
        return settings

    def on_sample(self, trainer, step, images) -> None: ...

    def on_end(self, trainer) -> None: ...
