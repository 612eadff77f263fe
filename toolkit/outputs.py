"""What a command may write, and writing it so that a stop or a crash leaves nothing half-done.

The rule, one place for every command that writes files (translate, upscale, stylize, sample, report,
augment-dataset), checked by :func:`check_outputs` before any work:

* never over an input file, nor into an input folder or a folder inside it (a second call would read its
  own outputs back as inputs); the folder *beside* a single input file is fine;
* never into a run directory's own files (its config, logs, checkpoints, ``samples/``): new files of your
  own beside them are fine;
* never over a file this call did not create, unless ``overwrite`` (``--overwrite``) is given; the files it
  replaces are returned, so the command can name them;
* never two outputs of one call under one name (``a.jpg`` and ``a.png`` would both become ``a.png``);
* ``--out`` must be a place that can be written (not below a file, not a folder where a file is asked for).

Writing (:class:`Staging`): every file goes first into a hidden folder beside ``--out``,
``.NAME.PID.partial``; when all are written they are moved into place, with Ctrl-C and SIGTERM held back for
that moment, so ``--out`` gets everything or nothing. A stop or an error before then removes the hidden
folder; a killed process (SIGKILL) cannot, so the next call writing to the same ``--out`` removes it (its
process is gone).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

from .errors import ToolkitError
from .run_lock import LOCK
from .runs import CHECKPOINTS, CONFIG, CONTROL, EVALUATIONS, EVENTS, JOB, METRICS, PAUSED, SAMPLES, TRAIN_LOG

# the names a run directory's own files have (toolkit/runs.py owns them); a folder holding config.json and
# one of the others is treated as a run directory wherever it is
RUN_OWN = frozenset(
    {CONFIG, METRICS, EVENTS, EVALUATIONS, TRAIN_LOG, JOB, CONTROL, PAUSED, LOCK, SAMPLES, CHECKPOINTS}
)
PARTIAL = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.partial$")
STOPS: list[int] = []  # Ctrl-C / SIGTERM received by a command (toolkit/cli/stopping.py), read by stop_point


class Stopped(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a command other than train: it stops where it is (toolkit/cli/stopping.py)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def stop_point() -> None:
    """Stop here if a signal came. The signal handler raises at once too, but an exception raised inside
    torch's C++ code or a finaliser can be swallowed: loops call this between images and steps."""
    if STOPS:
        raise Stopped(STOPS[-1])


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _run_dir_of(path: Path) -> Path | None:
    """The run directory ``path`` lies in (its nearest ancestor holding config.json and a run's files)."""
    for parent in path.parents:
        if (parent / CONFIG).is_file() and any((parent / n).exists() for n in (METRICS, CHECKPOINTS, EVENTS)):
            return parent
    return None


def _check_writable(out: Path, flag: str, file: bool) -> None:
    """A one-line error when ``out`` cannot be written: below a file, a folder where a file is asked for, a
    file where a folder is, or a read-only place."""
    if file and out.is_dir():
        raise ToolkitError(f"{flag} {out} is a folder; give the name of the file to write")
    if not file and out.exists() and not out.is_dir():
        raise ToolkitError(f"{flag} {out} is a file; give a folder")
    place = out.parent
    while not place.exists():
        place = place.parent
    if not place.is_dir():
        raise ToolkitError(
            f"cannot write {flag} {out}: {place} is a file, not a folder; choose another {flag}"
        )
    if not os.access(place, os.W_OK | os.X_OK):
        raise ToolkitError(f"cannot write {flag} {out}: {place} is read-only for you; choose another {flag}")


def check_outputs(
    out: str | Path,
    files: Iterable[tuple[Path, str]] | None = None,
    *,
    inputs: Iterable[str | Path] = (),
    overwrite: bool = False,
    folder: bool = False,
    new_folder: bool = False,
    flag: str = "--out",
) -> list[Path]:
    """Check the rule in the module docstring for the files one call will write; return the existing files
    that ``overwrite`` lets it replace. ``files``: (path, what it is made from) pairs, inside ``out`` (a
    folder) or ``out`` itself; ``None``: just ``out``. ``folder``: ``out`` is a folder; ``new_folder``: it
    must also be new or empty (unless ``overwrite``)."""
    out = Path(out).expanduser()
    folder = folder or new_folder
    _check_writable(out, flag, file=not folder)
    if files is None:  # just out: a file, or a folder checked before its files are known
        files = [] if folder else [(out, "")]
    files = [(Path(p).expanduser(), src) for p, src in files]
    real_out = out.resolve()
    for given in inputs:
        source = Path(given).expanduser()
        if not source.exists():
            continue
        real = source.resolve()
        if real.is_dir() and _inside(real_out, real):
            raise ToolkitError(
                f"{flag} {out} is inside the input folder {source}: the outputs would mix with (and could "
                f"replace) your images; choose a folder outside it"
            )
        for path, _ in files:
            if path.resolve() == real:
                raise ToolkitError(f"{flag} {out} would overwrite the input {source}; choose another {flag}")
    checked_runs: dict[Path, Path | None] = {}
    for path, _ in files:
        real = path.resolve()
        if real.parent not in checked_runs:
            checked_runs[real.parent] = _run_dir_of(real)
        run = checked_runs[real.parent]
        if run is not None and (real == run or real.relative_to(run).parts[0] in RUN_OWN):
            raise ToolkitError(
                f"{flag} {out} would write into the run directory {run}'s own files; choose a place outside "
                "its config, logs, checkpoints and samples/"
            )
    if folder and _run_dir_of(real_out / "x") == real_out:
        raise ToolkitError(f"{flag} {out} is a run directory; choose a new folder for the outputs")
    seen: dict[Path, str] = {}
    for path, src in files:
        if path in seen:
            raise ToolkitError(
                f"{seen[path]} and {src} would both be written to {path}; rename one of them (outputs are "
                "named after their inputs)"
            )
        seen[path] = src
    if new_folder and out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ToolkitError(
            f"{flag} {out} exists and is not empty; choose a new folder, or add --overwrite to write into it"
        )
    existing = [p for p, _ in files if p.exists() or p.is_symlink()]
    for p in existing:
        if p.is_dir():
            raise ToolkitError(f"{p} is a folder where a file would be written; choose another {flag}")
    if existing and not overwrite:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise ToolkitError(
            f"{existing[0]} already exists{more}; add --overwrite to replace it, or choose another {flag}"
        )
    return existing


def replaced_note(replaced: list[Path]) -> str:
    """'; replaced a.png, b.png and 3 more' for a command's last line ('' when nothing was replaced)."""
    if not replaced:
        return ""
    shown = ", ".join(str(p) for p in replaced[:3])
    return f"; replaced {shown}" + (f" and {len(replaced) - 3} more" if len(replaced) > 3 else "")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _SignalsHeld:
    """Ctrl-C and SIGTERM wait (the main thread's) while the block runs; they arrive after it."""

    def __enter__(self):
        self.held = threading.current_thread() is threading.main_thread()
        if self.held:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        return self

    def __exit__(self, *exc):
        if self.held:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


class Staging:
    """Write a command's files into a hidden folder beside ``out``, then put them in place together (see the
    module docstring). ``with Staging(out) as stage: stage.write(path, lambda f: ...)``; leaving the block
    normally moves them into place, an exception (Ctrl-C included) removes them."""

    def __init__(self, out: str | Path):
        self.out = Path(os.path.abspath(Path(out).expanduser()))
        self.root = self.out.parent / f".{self.out.name}.{os.getpid()}.partial"

    def __enter__(self) -> "Staging":
        self.out.parent.mkdir(parents=True, exist_ok=True)
        for old in self.out.parent.glob(f".{self.out.name}.*.partial"):  # left by a killed call
            m = PARTIAL.match(old.name)
            pid = int(m["pid"]) if m and m["name"] == self.out.name else os.getpid()
            if pid != os.getpid() and not _alive(pid):
                shutil.rmtree(old, ignore_errors=True)
        # A stop landing here, after the folder is made but before the with block's body begins, would skip
        # __exit__ and leave the folder behind: catch it here, remove the folder, and stop
        try:
            self.root.mkdir()
            stop_point()
            return self
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    def path(self, target: str | Path) -> Path:
        """Where ``target`` (``out`` or a path inside it) is written for now (its folder exists)."""
        staged = self.root / Path(os.path.abspath(Path(target).expanduser())).relative_to(self.out.parent)
        staged.parent.mkdir(parents=True, exist_ok=True)
        return staged

    def write(self, target: str | Path, write: Callable[[Any], None], mode: str = "wb") -> None:
        stop_point()
        with open(self.path(target), mode) as f:
            write(f)

    def __exit__(self, kind, exc, tb) -> None:
        with _SignalsHeld():
            try:
                if kind is None:
                    self._commit()
            except OSError as error:
                exc = error
            finally:
                shutil.rmtree(self.root, ignore_errors=True)
        if isinstance(exc, OSError):  # a full disk, a folder made read-only meanwhile: nothing is left
            raise ToolkitError(
                f"cannot write {self.out} ({exc.strerror or exc}); free some space or choose another --out"
            ) from None

    def _commit(self) -> None:
        staged = self.root / self.out.name
        if not staged.exists():
            return
        if staged.is_dir() and (not self.out.exists() or (self.out.is_dir() and not any(self.out.iterdir()))):
            if self.out.exists():
                self.out.rmdir()
            os.replace(staged, self.out)  # a new folder appears whole
            return
        files = [staged] if staged.is_file() else sorted(p for p in staged.rglob("*") if p.is_file())
        for f in files:
            target = self.out / f.relative_to(staged) if f != staged else self.out
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(f, target)
