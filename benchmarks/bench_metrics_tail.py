"""How long one dashboard refresh of the live charts takes on a large run (the reliability issue: 200,000
rows took ~10 s per refresh against the 2 s interval).

    python benchmarks/bench_metrics_tail.py [--rows 1000000]

Writes a metrics.jsonl of --rows rows (the keys of an ADA run), then times, side by side:
* the old way: read the whole file and build every chart from all rows (``Run.metrics`` + ``metrics_figure``);
* the new way: ``MetricsTail.refresh`` after 100 appended rows + charts from thinned series.
Measured here (2-core CPU, one thread): 1,000,000 rows: whole-file read + charts 13.6 s; MetricsTail's first
read 5.5 s (once, when the dashboard first shows the run), then each refresh + charts 0.04 s (median of 5).
200,000 rows: 2.8 s against 0.04 s. (Passing plotly numpy arrays halved the old way too: it validates lists
element by element.)
"""

import argparse
import gc
import json
import tempfile
import time
from pathlib import Path

from toolkit import viz
from toolkit.dashboard import MetricsTail
from toolkit.runs import Run

KEYS = ["loss_d", "loss_g", "d_real_acc", "d_fake_acc", "d_real_sign", "ada_p"]
CHARTS = [["loss_d", "loss_g"], ["d_real_acc", "d_fake_acc"], ["d_real_sign", "ada_p"]]


def rows(start: int, n: int) -> str:
    return "".join(
        json.dumps({"step": s, "time": s * 0.1, **{k: 0.5 for k in KEYS}}) + "\n"
        for s in range(start, start + n)
    )


def draw(tail: MetricsTail) -> None:
    for keys in CHARTS:
        viz.series_figure({k: tail.series(k) for k in keys})


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=1_000_000)
    n = p.parse_args().rows
    with tempfile.TemporaryDirectory() as d:
        run = Path(d)
        (run / "metrics.jsonl").write_text(rows(0, n))
        t = time.perf_counter()
        all_rows = Run(run).metrics()
        for keys in CHARTS:
            viz.metrics_figure(all_rows, keys)
        old = time.perf_counter() - t
        del all_rows  # the dashboard holds no list of row dicts (a million of them make every GC pass slow)
        gc.collect()

        tail = MetricsTail(run / "metrics.jsonl")
        t = time.perf_counter()
        tail.refresh()
        first = time.perf_counter() - t
        draw(tail)  # the page as first shown
        refreshes = []
        for k in range(5):  # then every 2 s: 100 new rows, a refresh, the charts again
            with open(run / "metrics.jsonl", "a") as f:
                f.write(rows(n + 100 * k, 100))
            t = time.perf_counter()
            draw(tail.refresh())
            refreshes.append(time.perf_counter() - t)
        refresh = sorted(refreshes)[2]
    print(
        f"{n:,} rows: whole-file read + charts {old:.2f} s; MetricsTail first read {first:.2f} s, "
        f"then each refresh (100 new rows) + charts {refresh:.3f} s (median of 5)"
    )


if __name__ == "__main__":
    main()
