"""metrics.jsonl read incrementally, for a dashboard that refreshes every 2 s (the dashboard's cache; the
run directory's format is ``toolkit/runs.py``'s)."""

from __future__ import annotations

import collections
import os
import threading
from pathlib import Path

from toolkit.files import parse_jsonl


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
