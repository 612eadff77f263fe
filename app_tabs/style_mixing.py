"""The "Style mixing" tab, for runs whose family declares it (``Family.dashboard_views``; StyleGAN,
lesson 14): the paper's style-mixing figure from the run's EMA generator (sources B across the top, sources
A down the left, each cell A's styles with B's in the chosen layers) and the truncation slider, with a row
of samples and their diversity. What is drawn is computed by ``toolkit/style_mixing.py``."""

from __future__ import annotations

import streamlit as st

from toolkit import viz
from toolkit.errors import ToolkitError
from toolkit.runs import Run
from toolkit.style_mixing import (
    check_w_avg,
    layer_bands,
    layer_resolutions,
    mean_pairwise_distance,
    style_mixing_grid,
)

from .latent import generator_for


def pixels(resolutions: list[int], start: int, stop: int) -> str:
    """'4-8 px' for the layers [start, stop)."""
    low, high = resolutions[start], resolutions[stop - 1]
    return f"{low} px" if low == high else f"{low}-{high} px"


def layers_text(resolutions: list[int], start: int, stop: int) -> str:
    if start == stop:
        return "no layer takes B's styles: every cell is its row's source A"
    if (start, stop) == (0, len(resolutions)):
        return "every layer takes B's styles: every cell is its column's source B"
    span = f"layer {start}" if stop == start + 1 else f"layers {start}-{stop - 1}"
    return f"{span} of 0-{len(resolutions) - 1} ({pixels(resolutions, start, stop)}) take B's styles"


def style_mixing_tab(run: Run, config: dict) -> None:
    ckpt = run.checkpoint_path()
    if ckpt is None:
        st.info("No checkpoint yet: style mixing opens with the run's first checkpoint.")
        return
    try:
        G, gconfig = generator_for(str(ckpt), ckpt.stat().st_mtime)
        resolutions, bands = layer_resolutions(G), layer_bands(G)
    except (ToolkitError, OSError) as err:
        st.error(str(err))
        return
    num_ws = G.num_ws
    key = f"mixing_layers_{num_ws}"  # a run with another number of layers gets its own slider
    if key not in st.session_state:
        st.session_state[key] = next(iter(bands.values()))

    def use_band(layers: tuple[int, int]) -> None:
        st.session_state[key] = layers

    st.caption(
        "Style mixing (StyleGAN section 3.2): each cell takes its row's source A's w in every layer but the "
        "chosen ones, which take its column's source B's. Early layers set coarse styles (pose, shape), late "
        "ones fine styles (texture, shading). The buttons pick the paper's bands; drag the left handle alone "
        f"(right at {num_ws}) for a crossover: the layers from it on take B's styles."
    )
    buttons = st.columns(len(bands))
    for column, (name, (start, stop)) in zip(buttons, bands.items()):
        label = f"{name} from B ({pixels(resolutions, start, stop)})"
        column.button(label, key=f"mixing_band_{name}", on_click=use_band, args=((start, stop),))
    start, stop = st.slider("Layers that take B's styles (start, stop)", 0, num_ws, key=key)
    left, right = st.columns(2)
    seed = int(left.number_input("Seed (sources and samples)", 0, 100_000, 0, key="mixing_seed"))
    untracked = None
    try:
        check_w_avg(G)
    except ToolkitError as err:
        untracked = str(err)
    psi = right.slider(
        "Truncation psi", 0.0, 1.0, 1.0, 0.05, key="mixing_psi", disabled=untracked is not None
    )
    right.caption(
        "psi pulls every w towards the run's average w: lower psi gives more typical, cleaner images "
        "(quality) and less variety (diversity); 1 = no truncation, 0 = the average image for every latent."
    )
    if untracked is not None:
        st.error(untracked)
        psi = 1.0
    try:
        grid = style_mixing_grid(G, seed, (start, stop), psi)
        untruncated = grid if psi == 1 else style_mixing_grid(G, seed, (start, stop), 1.0)
    except ToolkitError as err:
        st.error(str(err))
        return
    scale = max(1, 96 // G.resolution)
    st.image(
        viz.array_png(grid.figure(), scale=scale),
        caption=f"top: sources B; left: sources A; {layers_text(resolutions, start, stop)}; psi {psi:.2f} "
        f"(EMA generator, checkpoint at step {gconfig['checkpoint_step']})",
    )
    n = len(grid.samples)
    st.image(
        viz.grid_png(grid.samples, nrow=n, scale=scale),
        caption=f"{n} more samples of seed {seed}, psi {psi:.2f}",
    )
    diversity, at_one = mean_pairwise_distance(grid.samples), mean_pairwise_distance(untruncated.samples)
    st.metric(
        "Diversity of these samples (mean pairwise RMS pixel distance)",
        f"{diversity:.3f}",
        delta=f"{diversity - at_one:+.3f} vs psi 1 ({at_one:.3f})" if psi != 1 else None,
        delta_color="off",
        help="0: all samples alike; it falls as psi goes to 0, where every sample is the average image",
    )
