"""Training runs in the background, for the dashboard: start, pause, resume, stop and steer.

A job is an ordinary ``python -m toolkit train`` process in its own session (so it survives the
browser and the Streamlit script), with one torch thread (several jobs and the dashboard share the
CPU), its output in ``RUN_DIR/train.log`` and its process id in ``RUN_DIR/job.json``.

* pause / resume: SIGSTOP / SIGCONT (the process simply freezes; nothing is lost);
* stop: SIGTERM; the training loop finishes its step, writes a checkpoint and exits;
* steer: write ``RUN_DIR/control.json`` (e.g. ``{"lr_g": 5e-4}``). :class:`Steering`, a training
  callback the command line installs, reads it at each logging interval and hands it to
  ``Trainer.steer``, which validates it, applies it, rewrites config.json and records the change.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from .errors import ToolkitError
from .families import family_for
from .runs import Run, atomic_write_text

JOB = "job.json"
CONTROL = "control.json"


def start_job(run_dir: str | Path, args: list[str]) -> int:
    """Start ``python -m toolkit train --run-dir RUN_DIR ARGS`` in the background; returns its pid."""
    run_dir = Path(run_dir)
    if job_state(run_dir) in ("running", "paused"):
        raise ToolkitError(f"a job is already running in {run_dir}; stop it first")
    run_dir.mkdir(parents=True, exist_ok=True)
    log = open(run_dir / "train.log", "ab")
    cmd = [
        sys.executable,
        "-m",
        "toolkit",
        "train",
        "--run-dir",
        str(run_dir),
        "--threads",
        "1",
        "--no-progress",
        *args,
    ]
    proc = subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    atomic_write_text(run_dir / JOB, json.dumps({"pid": proc.pid, "command": cmd}))
    return proc.pid


def _pid(run_dir: Path) -> int | None:
    try:
        return int(json.loads((Path(run_dir) / JOB).read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _process_state(pid: int) -> str | None:
    """'R', 'S', 'T' (stopped), 'Z' (zombie)... from /proc, or None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0]
    except OSError:
        try:
            os.kill(pid, 0)  # no /proc (macOS): alive, state unknown
            return "R"
        except OSError:
            return None


def job_state(run_dir: str | Path) -> str:
    """running, paused, finished, stopped, diverged, crashed, or idle (no job started from the dashboard)."""
    pid = _pid(Path(run_dir))
    if pid is not None:
        state = _process_state(pid)
        if state == "Z":  # our own child that has exited: reap it
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        elif state is not None:
            return "paused" if state in ("T", "t") else "running"
    events = Run(run_dir).events()
    last = events[-1]["event"] if events else None
    if last in ("finished", "stopped", "diverged"):
        return last
    return "crashed" if pid is not None else "idle"


def _signal(run_dir: str | Path, sig: int) -> None:
    pid = _pid(Path(run_dir))
    if pid is None or job_state(run_dir) not in ("running", "paused"):
        raise ToolkitError(f"no job is running in {run_dir}")
    os.kill(pid, sig)


def pause_job(run_dir):
    _signal(run_dir, signal.SIGSTOP)


def resume_job(run_dir):
    _signal(run_dir, signal.SIGCONT)


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
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return
        if mtime == self._seen:
            return
        self._seen = mtime
        try:
            settings = json.loads(self.path.read_text())
            if not isinstance(settings, dict):
                raise ToolkitError(f"{self.path} must hold a JSON object of settings")
            row.update(trainer.steer(**settings))
        except (OSError, ValueError, TypeError, ToolkitError) as exc:
            if trainer.writer is not None:
                trainer.writer.event("rejected", step=trainer.step, reason=str(exc)[:200])

    def on_sample(self, trainer, step, images) -> None: ...

    def on_end(self, trainer) -> None: ...
