"""Writing files so that a reader never sees half of one, and reading JSONL files that may be mid-append.

Whole files are written to a temporary name beside the target and renamed over it (``os.replace`` is
atomic on POSIX and Windows): a crash or a full disk leaves the previous file in place. JSONL rows are
appended one whole line at a time, so a reader takes only complete lines and skips a torn last one.

A leaf: it imports nothing from the toolkit, so anything may use it (runs, metrics, viz, the CLI).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable


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
