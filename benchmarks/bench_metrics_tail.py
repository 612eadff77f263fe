"""How long one dashboard refresh of the live charts takes on a large run (the reliability issue: 200,000
rows took ~10 s per refresh against the 2 s interval).

    python benchmarks/bench_metrics_tail.py [--rows 1000000]

Writes a metrics.jsonl of --rows rows (the keys of an ADA run), then times, side by side:
* the old way: read the whole file and build every chart from all rows (``Run.metrics`` + ``metrics_figure``);
* the new way: ``MetricsTail.refresh`` after 100 appended rows + charts from thinned series.
Measured here (2-core CPU, 1,000,000 rows): old ~ see the printout; new refresh well under 0.5 s.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

from toolkit import viz
from toolkit.runs import MetricsTail, Run

KEYS = ["loss_d", "loss_g", "d_real_acc", "d_fake_acc", "d_real_sign", "ada_p"]
CHARTS = [["loss_d", "loss_g"], ["d_real_acc", "d_fake_acc"], ["d_real_sign", "ada_p"]]


def rows(start: int, n: int) -> str:
    return "".join(
        json.dumps({"step": s, "time": s * 0.1, **{k: 0.5 for k in KEYS}}) + "\n"
        for s in range(start, start + n)
    )


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

        tail = MetricsTail(run / "metrics.jsonl")
        t = time.perf_counter()
        tail.refresh()
        first = time.perf_counter() - t
        with open(run / "metrics.jsonl", "a") as f:
            f.write(rows(n, 100))
        t = time.perf_counter()
        tail.refresh()
        for keys in CHARTS:
            viz.series_figure({k: tail.series(k) for k in keys})
        refresh = time.perf_counter() - t
    print(
        f"{n:,} rows: whole-file read + charts {old:.2f} s; MetricsTail first read {first:.2f} s, "
        f"then each refresh (100 new rows) + charts {refresh:.3f} s"
    )


if __name__ == "__main__":
    main()
