"""What the dashboard (``app.py``) tells a user, worked out without Streamlit so that it can be tested alone:
what a folder of their own images holds and whether the chosen model can learn from it, the start form's
defaults and how long the run will take, and the labels of the charts' change markers; and
:class:`MetricsTail`, its incremental reader of a run's metrics.jsonl (the format is ``toolkit/runs.py``'s).

The dashboard only draws what these functions return.
"""

from __future__ import annotations

import collections
import json
import os
import threading
from pathlib import Path

from .errors import ToolkitError
from .families import config_for, family_for
from .files import parse_jsonl

# files decoded by the start form to find unreadable ones (a larger folder: its first ones, and it says so)
FORM_CHECKS = 2000
# the toolkit's own measurement of each model's step on a 2-core CPU (python -m toolkit bench)
BENCH = Path(__file__).resolve().parents[1] / "results" / "bench" / "cpu-2core.json"
BENCH_RESOLUTION = 32  # the bench trains the gan family on Fashion-MNIST at 32x32
FOLDER_RESOLUTION = 64  # a folder's images are resized to this unless --resolution says otherwise


def _names(items: list[str], n: int = 3) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def check_own_data(path: Path, model: str, resolution: int | None = None) -> dict:
    """What the folder or .zip at ``path`` gives ``model``: ``problem`` (one line saying what is wrong and
    what to do, or None), ``summary`` (one line: what is there), ``unreadable`` (names of images that do not
    decode; training skips them), ``notes`` (conversions the model's view of the images implies),
    ``checked`` (how many files were decoded) and ``images`` (how many training will use). Decodes up to
    :data:`FORM_CHECKS` images."""
    from .data.folder import inspect_image_folder, survey_images
    from .families.base import SHRUNK_IMAGES, TWO_DOMAINS
    from .models import CONDITIONAL

    out = {"problem": None, "summary": "", "unreadable": [], "notes": [], "checked": 0, "images": 0}
    try:
        found = inspect_image_folder(path)
    except ToolkitError as err:
        return {**out, "problem": str(err)}
    skipped = f" ({found['skipped']} other files skipped)" if found["skipped"] else ""
    trains_on = family_for(model).trains_on
    if trains_on == TWO_DOMAINS:
        a, b = found["sides"]["A"], found["sides"]["B"]
        if not (a and b):
            problem = f"{model} needs sub-folders A/ and B/ with images; {path} has {a} in A/ and {b} in B/"
            return {**out, "problem": problem}
        out["summary"] = f"{a} images in A/, {b} in B/{skipped}"
    elif not found["images"]:
        return {**out, "problem": f"no images in {path}{skipped}"}
    elif trains_on == SHRUNK_IMAGES:  # any images: random crops of them are the high-resolution side
        out["summary"] = (
            f"{found['images']} images; random crops of them are the high-resolution targets{skipped}"
        )
    else:
        classes, top, deeper = found["classes"], found["top_level"], found["deeper"]
        if deeper:
            return {
                **out,
                "problem": f"{path} has images two or more folders down ({_names(deeper)}); put them "
                "directly in the folder, or in one level of class sub-folders",
            }
        if classes and top:
            return {
                **out,
                "problem": f"{path} has {len(classes)} class folder{'s' if len(classes) > 1 else ''} "
                f"({_names(classes)}) and {len(top)} image{'s' if len(top) > 1 else ''} beside them "
                f"({_names(top)}): move {'them' if len(top) > 1 else 'it'} into a class folder or remove "
                f"{'them' if len(top) > 1 else 'it'}",
            }
        if model in CONDITIONAL and len(classes) < 2:
            has = (
                f"only one class folder ({classes[0]})"
                if classes
                else "its images directly in it, no class folders"
            )
            return {
                **out,
                "problem": f"{model} learns classes: put the images in one sub-folder per class, two or more "
                f"({path} has {has})",
            }
        what = f" in {len(classes)} classes ({_names(classes, 6)})" if classes else ""
        out["summary"] = f"{found['images']} images{what}{skipped}"
    survey = survey_images(path, FORM_CHECKS)
    out["checked"] = survey["checked"]
    out["unreadable"] = [name for name, _ in survey["unreadable"]]
    out["images"] = found["images"] - len(out["unreadable"])  # what training will use
    bad, total = len(survey["unreadable"]), survey["checked"]
    if bad and 2 * bad >= total:
        return {
            **out,
            "problem": f"{bad} of {total} images ({bad / total:.0%}) do not decode, half or more: check the "
            f"path. The first: {survey['unreadable'][0][1]}",
        }
    if bad:
        out["notes"].append(
            f"{bad} image{'s do' if bad > 1 else ' does'} not decode and will be skipped: "
            f"{_names(out['unreadable'], 5)}"
        )
    if total < found["images"]:
        out["notes"].append(f"the first {total:,} of {found['images']:,} images were checked")
    out["notes"] += conversion_notes(survey, resolution or FOLDER_RESOLUTION)
    return out


def conversion_notes(survey: dict, resolution: int) -> list[str]:
    """What happens to the images on their way to the model, from :func:`survey_images`'s counts."""
    from .data.decode import GREY_MODES

    modes, notes = survey["modes"], []
    grey = sum(n for m, n in modes.items() if m in GREY_MODES)
    colour = sum(modes.values()) - grey
    if grey and colour:
        notes.append(f"{grey} greyscale image{'s' if grey > 1 else ''} will be made RGB (the set has colour)")
    alpha = sum(n for m, n in modes.items() if m in ("RGBA", "LA", "PA", "P"))
    if alpha:
        notes.append(
            f"{alpha} image{'s' if alpha > 1 else ''} with transparency or a palette: flattened to RGB"
        )
    small = [s for s in survey["sides"] if s < resolution]
    if small:
        notes.append(
            f"{len(small)} image{'s are' if len(small) > 1 else ' is'} smaller than {resolution} px and will "
            f"be enlarged (the smallest: {min(small)} px)"
        )
    return notes


def form_defaults(model: str) -> dict:
    """The start form's steps and batch size: the model's own (its family's defaults with its preset), the
    same as ``python -m toolkit train --model MODEL`` uses."""
    preset = config_for(model)
    return {"steps": preset.steps, "batch_size": preset.batch_size}


def bench_ms_per_step(model: str, augment: str = "none", bench: Path = BENCH) -> tuple[float, int] | None:
    """(milliseconds per step, at batch) the bench measured for ``model`` on 2 CPU cores, or None."""
    try:
        rows = json.loads(bench.read_text())["families"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    family = "wgan-gp" if model == "wgan" else model  # the same five critic steps
    names = [f"{family} + {augment}", family] if augment not in ("none", None) else [family]
    for name in names:
        for row in rows:
            if str(row.get("family", "")).split(" (")[0] == name:
                return float(row["ms_per_step"]), int(row["batch"])
    return None


def estimate_seconds(
    model: str,
    steps: int,
    batch_size: int,
    resolution: int | None,
    augment: str = "none",
    bench: Path = BENCH,
) -> float | None:
    """About how long ``steps`` steps take on a 2-core CPU, scaled from the bench by batch size and (a family
    whose ``time_scales_with_pixels``) by pixels; None where the bench has no measurement of this model."""
    measured = bench_ms_per_step(model, augment, bench)
    if measured is None:
        return None
    ms, bench_batch = measured
    scale = batch_size / bench_batch
    if family_for(model).time_scales_with_pixels and resolution:
        scale *= (resolution / BENCH_RESOLUTION) ** 2
    return steps * ms / 1000 * scale


def family_of_run(config: dict):
    """The family that trained a run (from its config.json's model), whose declarations say what the dashboard
    and the report show of it; None when that model is not registered here."""
    try:
        return family_for(str(config.get("model")))
    except ToolkitError:
        return None


def charts_of_run(config: dict) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(title, logged keys) of every chart the run's family declares (``Family.charts``); none when the family
    is not registered here."""
    family = family_of_run(config)
    return family.charts if family is not None else ()


def views_of_run(config: dict) -> tuple[str, ...]:
    """The extra tabs the run's family declares (``Family.dashboard_views``, e.g. StyleGAN's "Style mixing");
    none when the family is not registered here."""
    family = family_of_run(config)
    return family.dashboard_views if family is not None else ()


NOT_SETTINGS = {"event", "step", "wall_time", "time", "on", "until", "reason"}


def change_label(event: dict) -> str:
    """A change marker's text: the settings that changed and their new values ("lr_g 0.0005, lr_d 0.001"),
    never the event's bookkeeping fields (its wall-clock time, where it came from)."""
    parts = []
    for k, v in event.items():
        if k in NOT_SETTINGS or isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        parts.append(f"{k} {v:g}")
    return ", ".join(parts)


def marker_rows(steps: list[int], x_span: float, min_gap: float = 0.12) -> list[int]:
    """For change markers at ``steps``, the row (0, 1, 2...) each label is drawn in so that labels of
    markers closer than ``min_gap`` of the x axis's span do not overlap: a marker goes in the lowest row
    whose last label is far enough to its left."""
    rows: list[int] = []
    last_in_row: list[float] = []
    for s in steps:
        for r, last in enumerate(last_in_row):
            if s - last >= min_gap * max(x_span, 1):
                last_in_row[r] = s
                rows.append(r)
                break
        else:
            last_in_row.append(s)
            rows.append(len(last_in_row) - 1)
    return rows


def add_change_markers(fig, changes: list[dict], x_span: float, background: str | None = None) -> None:
    """Draw each "changed" event of ``changes`` on a plotly figure: a dashed line at its step and its
    :func:`change_label`, close labels stacked (:func:`marker_rows`). The dashboard and the exported report
    both draw them this way."""
    for e, row in zip(changes, marker_rows([e["step"] for e in changes], x_span)):
        fig.add_vline(x=e["step"], line_dash="dash", line_color="grey")
        fig.add_annotation(
            x=e["step"],
            y=1 - 0.09 * row,
            yref="paper",
            text=change_label(e),
            showarrow=False,
            xanchor="left",
            font={"size": 11},
            **({"bgcolor": background} if background else {}),
        )


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
