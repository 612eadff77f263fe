"""The "Live training" tab: progress, alarms, the run's curves with steering marked on them, the latest
sample grid, events and scores; redrawn every 2 seconds from the lines metrics.jsonl gained."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import torch

from toolkit import viz
from toolkit.alarms import run_alarms
from toolkit.augment import ADA_TARGET
from toolkit.dashboard import add_change_markers, charts_of_run, family_of_run
from toolkit.errors import ToolkitError
from toolkit.generate import load_generator
from toolkit.runs import METRICS, Run

from .reading import class_rows, grid_image, job_signature, metrics_tail, real_images, real_images_source


@st.fragment(run_every=2)
def live_view(run: Run, config: dict, state: str, seen: tuple):
    """The tab, a fragment: ``seen`` is what the page was drawn from (a change redraws the whole page)."""
    tail = metrics_tail(str(run.dir / METRICS)).refresh()
    if not tail.count:
        st.info("No metrics logged yet: the first row appears after --log-every steps.")
        return
    if job_signature(run.dir) != seen:  # finished, stopped, steered, a new checkpoint: redraw the whole page
        st.rerun(scope="app")
    last = tail.last
    live_config = run.config()  # re-read: steering and Continue change it
    p = tail.progress(int(live_config.get("steps", 0)), int(live_config.get("batch_size", 1)))
    speed = f" · {p['images_per_s']:.0f} images/s" if p["images_per_s"] else ""
    left = p["seconds_left"]
    eta = "" if left is None or p["step"] >= p["total"] else f" · about {viz.duration(left)} left"
    if state != "running":  # nothing is training: no time left to promise
        eta = " · paused" if state == "paused" else ""
    st.progress(min(1.0, p["step"] / max(1, p["total"])))
    st.caption(f"step {p['step']:,} / {p['total']:,}{speed}{eta} · {last['time']:.0f} s of training")
    changes = [e for e in run.events() if e.get("event") == "changed" and isinstance(e.get("step"), int)]
    found = run_alarms(list(tail.recent), live_config.get("augment", "none"))
    ckpt = run.checkpoint_path()
    family = family_of_run(live_config)  # its declarations: charts, the grids' caption, the collapse check
    collapsed = None
    if (
        ckpt is not None
        and live_config.get("kind") == "images"
        and family is not None
        and family.collapse_alarm
    ):
        try:
            collapsed = collapse_alarm(str(ckpt), ckpt.stat().st_mtime)
        except (ToolkitError, OSError, RuntimeError, KeyError):
            collapsed = None  # a checkpoint being replaced, or one that does not load: no banner
        if collapsed is not None:
            found.append(collapsed)
    for a in found:
        # the collapse check compares G's samples with real images: say which, when they are not the run's own
        compared = f" (compared with {real_images_source(live_config)})" if a is collapsed else ""
        st.warning(f"**{a.kind}**: {a.message}{compared}. Try: {a.advice}.", icon="⚠️")
    charts = [(t, k) for t, k in charts_of_run(live_config) if any(key in tail.columns for key in k)]
    left, right = st.columns([3, 2])
    with left:
        for title, keys in charts:
            fig = viz.series_figure({k: tail.series(k) for k in keys if k in tail.columns}, title)
            # steered or changed on resume: marked where it took effect, close labels stacked
            add_change_markers(fig, changes, p["total"], background="rgba(255,255,255,0.7)")
            if "d_real_sign" in keys and config.get("augment") in ("ada", "diffusion"):
                # re-read: it can be steered during the run
                target = run.config().get("ada_target", ADA_TARGET)
                fig.add_hline(y=target, line_dash="dot", annotation_text=f"target r_t {target:g}")
            st.plotly_chart(fig, width="stretch", key=f"chart-{title}")
    with right:
        grids = run.sample_grids()
        if grids:
            step, path = grids[-1]
            what = family.grid_caption if family is not None else "the same latent vectors every time"
            if class_rows(config):
                what = "one row per class, the same 8 latent vectors in every row"
            st.image(grid_image(config, path), caption=f"samples at step {step} ({what})", width="stretch")
        else:
            st.info("No sample grid yet.")
        events = run.events()
        if events:
            shown = events if len(events) <= 6 else [events[0], *events[-5:]]  # "started" stays in view
            st.caption("events: " + " · ".join(f"{e['event']} @ {e.get('step', '?')}" for e in shown))
        scores = run.evaluations()
        if scores:
            columns = ["step", "features", "fid", "kid", "precision", "recall", "n_fake", "n_real"]
            st.caption("scores (the Evaluate button above, or python -m toolkit eval --run-dir RUN)")
            st.dataframe([{k: r.get(k) for k in columns if k in r} for r in scores[-8:]], hide_index=True)


@st.cache_resource(max_entries=4, show_spinner="Checking the samples for mode collapse ...")
def collapse_alarm(checkpoint: str, mtime: float):
    """The mode-collapse check on 256 samples of the checkpoint's generator (once per checkpoint)."""
    from toolkit.alarms import collapse
    from toolkit.generate import generate

    G, gconfig = load_generator(Path(checkpoint).parent.parent)
    fake = generate(G, 256, gconfig["z_dim"], seed=0)
    real = real_images(
        gconfig["data"], gconfig.get("resolution"), gconfig.get("limit"), gconfig.get("seed", 0), 256
    )
    probs = None
    if gconfig["data"] == "fashion-mnist" and fake.shape[1:] == (1, 32, 32):
        from toolkit.metrics.fmnist_cnn import load_fmnist_cnn

        with torch.no_grad():
            probs = load_fmnist_cnn()(fake).softmax(1)
    return collapse(fake, real[: len(fake)], probs)
