"""The run directory's lock: one training process per folder.

``RUN_DIR/.lock`` holds the pid of the process that trains there, and that process holds an exclusive
``flock`` on it. The operating system drops the lock when its process dies, so a lock left by a killed
run never blocks. The dashboard asks :func:`lock_holder` whether a run trains now.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .errors import ToolkitError

LOCK = ".lock"
_HELD: dict[str, Any] = {}  # run directories this process holds the lock of: resolved path -> open lock file


def lock_run_dir(run_dir: Path) -> None:
    """Take the run directory's exclusive lock (``RUN_DIR/.lock``, holding the pid), so two processes
    never train into one folder. A lock this process already holds (a notebook cell run again) is
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
