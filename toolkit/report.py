"""A run as one self-contained HTML file: its settings, curves, sample grids, scores and events.

``python -m toolkit report --run-dir RUN --out run.html`` (or the dashboard's download button). The file
needs nothing else to open, offline included: plotly's JavaScript is inlined once (about 4.6 MB), the grids
are embedded as PNG data, and nothing is fetched from the network.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from .dashboard import add_change_markers, charts_of_run
from .runs import Run

TEMPLATE = "plotly_white"  # the report's figures' look (plotly's colour cycle on white), pinned


def _table(rows: list[dict], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(c)))}</td>" for c in columns) + "</tr>" for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def _png(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def run_report(run_dir: str | Path, max_grids: int = 4) -> str:
    """The HTML text of a run's report (see the module docstring)."""
    import plotly.graph_objects as go

    run = Run(run_dir)
    config = run.config()
    rows = run.metrics()
    events = run.events()
    scores = run.evaluations()
    parts = [f"<h1>{html.escape(run.dir.name)}</h1>"]
    model, data = html.escape(str(config.get("model"))), html.escape(str(config.get("data")))
    last = rows[-1]["step"] if rows else 0
    parts.append(
        f"<p><b>{model}</b> on <b>{data}</b>, {len(rows)} logged rows, "
        f"last step {last} of {config.get('steps')}.</p>"
    )
    figures = []
    for title, keys in charts_of_run(config):  # what the run's family declares
        present = [k for k in keys if any(k in r for r in rows)]
        if not present:
            continue
        fig = go.Figure(
            # its own template: importing streamlit switches plotly's default to one that draws every curve
            # alike, and a report must look the same wherever it is made
            layout={
                "title": title,
                "xaxis_title": "step",
                "height": 320,
                "margin": {"t": 40},
                "template": TEMPLATE,
            }
        )
        for k in present:
            points = [(r["step"], r[k]) for r in rows if isinstance(r.get(k), (int, float))]
            fig.add_trace(
                go.Scatter(x=[s for s, _ in points], y=[v for _, v in points], name=k, mode="lines")
            )
        changes = [e for e in events if e.get("event") == "changed" and isinstance(e.get("step"), int)]
        add_change_markers(fig, changes, max(1, last))
        figures.append(fig)
    if figures:
        parts.append("<h2>Curves</h2>")
        for i, fig in enumerate(figures):  # plotly.js inlined with the first chart only
            parts.append(fig.to_html(full_html=False, include_plotlyjs=i == 0))
    grids = run.sample_grids()
    if grids:
        picked = sorted(
            {grids[round(i * (len(grids) - 1) / max(1, max_grids - 1))] for i in range(max_grids)}
        )
        parts.append("<h2>Samples</h2><div class='grids'>")
        for step, path in picked:
            image = f"<img src='{_png(path)}' alt='step {step}'>"
            parts.append(f"<figure>{image}<figcaption>step {step}</figcaption></figure>")
        parts.append("</div>")
    if scores:
        columns = [
            c
            for c in ("step", "features", "fid", "kid", "precision", "recall", "n_fake", "n_real")
            if any(c in s for s in scores)
        ]
        parts.append("<h2>Scores</h2>" + _table(scores, columns))
    if events:
        parts.append(
            "<h2>Events</h2>"
            + _table(
                events,
                ["event", "step"] + sorted({k for e in events for k in e} - {"event", "step", "wall_time"}),
            )
        )
    settings = [
        {"setting": k, "value": json.dumps(v) if isinstance(v, (dict, list)) else v}
        for k, v in config.items()
    ]
    parts.append("<h2>Settings (config.json)</h2>" + _table(settings, ["setting", "value"]))
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}"
        ".grids{display:flex;flex-wrap:wrap;gap:12px}img{image-rendering:pixelated;max-width:520px}"
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(run.dir.name)}</title>"
        f"<style>{style}</style></head><body>{''.join(parts)}</body></html>"
    )


def write_report(run_dir: str | Path, out: str | Path, overwrite: bool = False) -> tuple[Path, list[Path]]:
    """Write the report to ``out`` (an .html file); returns it and the file ``overwrite`` replaced, if any.
    Never over an existing file without ``overwrite``, never into the run's own files
    (``toolkit/outputs.py``); checked before the report is built."""
    from .outputs import Staging, check_outputs

    out = Path(out).expanduser()
    replaced = check_outputs(out, overwrite=overwrite)
    text = run_report(run_dir)
    with Staging(out) as stage:
        stage.write(out, lambda f: f.write(text), mode="w")
    return out, replaced
