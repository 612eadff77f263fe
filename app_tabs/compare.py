"""The "Compare runs" tab: one metric of several runs overlaid (against step or training time), and their
sample grids at one step."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from toolkit import viz
from toolkit.runs import METRICS, Run

from .reading import grid_image, metrics_tail


def compare_tab(root: Path, run_names: list[str], selected: str) -> None:
    """The tab: ``run_names`` (under ``root``) to pick from, ``selected`` picked at first."""
    picked = st.multiselect("Runs", run_names, default=[selected], key="compare_runs")
    tails = {n: metrics_tail(str(root / n / METRICS)).refresh() for n in picked}
    keys = sorted({k for t in tails.values() for k in t.columns if k != "time"})
    if len(picked) < 2 or not keys:
        st.info("Pick two or more runs that have logged metrics to overlay their curves and grids.")
    else:
        c1, c2 = st.columns([2, 1])
        default_key = next(
            (k for k in ("fid", "loss_d", "loss_g", "loss_l1", "loss_cycle") if k in keys), keys[0]
        )
        key = c1.selectbox("Metric", keys, index=keys.index(default_key), key="compare_key")
        x_axis = c2.radio("Against", ["step", "seconds of training"], horizontal=True, key="compare_x")
        series = {}
        for n, t in tails.items():
            if key not in t.columns:
                continue
            steps, values = t.series(key)
            if x_axis == "step":
                series[n] = (steps, values)
            else:  # the time column is logged on every row: look each step's time up
                seconds = dict(zip(*t.columns["time"]))
                series[n] = ([seconds.get(s) for s in steps], values)
        fig = viz.series_figure(series, f"{key} of {len(series)} runs", key)
        fig.update_xaxes(title_text=x_axis)
        st.plotly_chart(fig, width="stretch", key="compare_chart")
        last = min(int(t.last.get("step", 0)) for t in tails.values())
        at_step = st.slider("Sample grids at step", 0, max(1, last), max(1, last), key="compare_step")
        grid_cols = st.columns(len(picked))
        for col, n in zip(grid_cols, picked):
            found = Run(root / n).grid_at(at_step)
            if found is None:
                col.caption(f"{n}: no grid at or before step {at_step}")
            else:
                col.image(grid_image(Run(root / n).config(), found[1]), caption=f"{n} at step {found[0]}")
