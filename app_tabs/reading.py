"""What the dashboard's parts read from runs and their data, cached, and the rule of what it may read: runs
under the runs root ($TOOLKIT_RUNS_DIR or this checkout's runs/) and images under it or the user's home."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from toolkit import jobs
from toolkit.dashboard import MetricsTail
from toolkit.dashboard_files import label_grid_rows
from toolkit.data import DATASETS
from toolkit.errors import ToolkitError
from toolkit.runs import CONFIG, LAST_CHECKPOINT, TRAIN_LOG, default_runs_root


def allowed_root() -> Path:
    """The runs root: the dashboard acts only on runs under it (the sidebar's box may pick a folder inside
    it, never one elsewhere on disk)."""
    return default_runs_root().resolve()


def readable_here(path: Path) -> bool:
    """Whether the dashboard may read ``path`` (resolved): only under the runs root or the user's home."""
    return any(base == path or base in path.parents for base in (allowed_root(), Path.home().resolve()))


def log_tail(run_dir: Path, lines: int = 3) -> str:
    """The last lines of a job's train.log (where a job that died at once says why)."""
    try:
        text = (run_dir / TRAIN_LOG).read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def job_signature(run_dir: Path) -> tuple:
    """What the page was drawn from: the job's state, when config.json and the checkpoint last changed."""

    def changed(path: Path) -> float | None:
        try:
            return path.stat().st_mtime
        except OSError:
            return None

    return (
        jobs.job_state(run_dir),
        changed(run_dir / CONFIG),
        changed(run_dir / LAST_CHECKPOINT),
    )


@st.cache_resource(max_entries=2)
def real_images(data: str, resolution, limit, seed, n: int = 16):
    """``n`` of the run's training images. config.json is a file anyone could edit, so its values are checked
    before use: a built-in dataset, or a folder/zip inside the runs root or the user's home."""
    from toolkit.data import load_dataset

    if data not in DATASETS:
        path = Path(str(data)).expanduser().resolve()
        if not readable_here(path):
            raise ToolkitError(f"this run's data ({data}) is outside the runs root and your home; not shown")
    if not (resolution is None or (isinstance(resolution, int) and 1 <= resolution <= 1024)):
        raise ToolkitError(f"this run's config.json has an invalid resolution ({resolution!r})")
    if not (limit is None or (isinstance(limit, int) and limit >= 1)) or not isinstance(seed, int):
        raise ToolkitError("this run's config.json has an invalid limit or seed")
    return load_dataset(data, resolution=resolution, limit=limit, seed=seed).x[:n]


def real_images_source(config: dict) -> str:
    """Where the tabs' real images come from, in words. A run trained on data passed in from Python (e.g.
    lesson 13's imbalanced subset) records only a fingerprint of it, so the tabs read the whole named set
    instead, and say so."""
    if not config.get("data_passed_in"):
        return "real training images"
    from toolkit.data.fingerprint import describe_passed_in_data

    return (
        f"real images from all of {config.get('data')} (this run trained on "
        f"{describe_passed_in_data(config)}, which the dashboard cannot read back)"
    )


def class_rows(run_config: dict) -> list[str]:
    """A conditional run's class names (its grids have one row per class), else []."""
    from toolkit.models import CONDITIONAL

    names = run_config.get("class_names") or []
    return names if run_config.get("model") in CONDITIONAL and isinstance(names, list) else []


def grid_image(run_config: dict, path: Path):
    """A sample grid to show: a conditional run's with its rows labelled by class name."""
    names = class_rows(run_config)
    return label_grid_rows(path, [str(n) for n in names]) if names else str(path)


@st.cache_resource(max_entries=16)
def metrics_tail(path: str) -> MetricsTail:
    """One incremental reader per run (a refresh parses only new lines; see toolkit/dashboard.py)."""
    return MetricsTail(path)
