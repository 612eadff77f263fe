"""The dashboard's 2-D playground, in the manner of GAN Lab: a small MLP GAN learning a mixture of Gaussians
live in the page. D's decision surface as a heat map, real and generated points, and G's gradient field as
arrows (where G's loss pushes each sample); modes covered and the share of good samples, counted live.

Streamlit lists this page in the sidebar of ``streamlit run app.py``; the model is ``toolkit/playground.py``.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st
import torch

from toolkit.playground import PLAYGROUND_LOSSES, Playground, PlaygroundSettings

st.set_page_config(page_title="2-D playground", layout="wide")
torch.set_num_threads(1)  # training jobs may run beside us

st.title("2-D playground")
st.caption(
    "A GAN with two small MLPs learns 8 Gaussians on a ring (or 25 on a grid). The heat map is D's verdict "
    "over the plane, the arrows show where G's loss pushes each generated point."
)

lrs = [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3]
with st.sidebar:
    st.header("Playground")
    data = st.radio("Data", ["ring", "grid"], horizontal=True, key="pg_data")
    loss = st.selectbox("Loss", list(PLAYGROUND_LOSSES), key="pg_loss")
    z_dim = st.select_slider("Latent size", [1, 2, 4, 8, 16], value=2, key="pg_z")
    lr_g = st.select_slider("Generator learning rate", lrs, value=1e-3, key="pg_lr_g")
    lr_d = st.select_slider("Discriminator learning rate", lrs, value=1e-3, key="pg_lr_d")
    per_frame = st.slider("Steps per frame", 1, 200, 25, key="pg_per_frame")
    st.caption("Data, loss and latent size start a new game; the learning rates apply at once.")

settings = PlaygroundSettings(data=data, loss=loss, z_dim=z_dim, lr_g=lr_g, lr_d=lr_d)
game_key = (data, loss, z_dim)
if st.session_state.get("pg_key") != game_key or "pg" not in st.session_state:
    st.session_state["pg"], st.session_state["pg_key"] = Playground(settings), game_key
    st.session_state["pg_playing"] = False
pg: Playground = st.session_state["pg"]
pg.set_rates(lr_g, lr_d)


def set_playing(playing: bool) -> None:
    st.session_state["pg_playing"] = playing


def reset() -> None:
    st.session_state["pg"] = Playground(settings)
    st.session_state["pg_playing"] = False


# Callbacks run before the page is drawn again, so Play and Pause are drawn with the state the click set
# (an `if st.button(...)` body would run after both buttons were drawn with the old state).
c1, c2, c3, c4 = st.columns(4)
c1.button("Play", disabled=st.session_state["pg_playing"], on_click=set_playing, args=(True,))
c2.button("Pause", disabled=not st.session_state["pg_playing"], on_click=set_playing, args=(False,))
step_once = c3.button("Step")
c4.button("Reset", on_click=reset)
pg = st.session_state["pg"]
if step_once:
    pg.train(per_frame)


def board_figure() -> go.Figure:
    axis, surface = pg.decision_surface(60)
    probability = pg.settings.loss in ("nonsaturating", "minimax")
    fig = go.Figure(
        go.Heatmap(
            x=axis.tolist(),
            y=axis.tolist(),
            z=surface.tolist(),
            colorscale="RdBu",
            zmid=0.5 if probability else 0.0,
            colorbar={"title": "D: P(real)" if probability else "D's score"},
            opacity=0.75,
        )
    )
    real = pg.real[:600]
    fig.add_trace(
        go.Scatter(
            x=real[:, 0].tolist(),
            y=real[:, 1].tolist(),
            mode="markers",
            name="real",
            marker={"size": 4, "color": "#1a9850"},
        )
    )
    points, push = pg.gradient_field(128)
    fake = pg.samples()
    fig.add_trace(
        go.Scatter(
            x=fake[:, 0].tolist(),
            y=fake[:, 1].tolist(),
            mode="markers",
            name="generated",
            marker={"size": 4, "color": "#762a83"},
        )
    )
    length = 0.06 * 2 * pg.extent()
    unit = push / push.norm(dim=1, keepdim=True).clamp_min(1e-12)
    xs, ys = [], []
    for (x, y), (dx, dy) in zip(points.tolist(), (unit * length).tolist()):
        xs += [x, x + dx, None]
        ys += [y, y + dy, None]
    fig.add_trace(
        go.Scatter(x=xs, y=ys, mode="lines", name="G's gradient", line={"color": "black", "width": 1})
    )
    extent = pg.extent()
    fig.update_layout(
        height=620,
        xaxis={"range": [-extent, extent]},
        yaxis={"range": [-extent, extent], "scaleanchor": "x"},
        margin={"t": 20, "b": 20},
        legend={"orientation": "h"},
    )
    return fig


@st.fragment(run_every=0.5 if st.session_state["pg_playing"] else None)
def board():
    if st.session_state["pg_playing"]:
        pg.train(per_frame)
    q = pg.quality()
    m1, m2, m3 = st.columns(3)
    m1.metric("Step", f"{pg.step:,}")
    m2.metric("Modes covered", f"{q.modes_covered} / {q.num_modes}")
    m3.metric("Good samples", f"{q.high_quality:.0%}", help="within 3 standard deviations of a mode")
    left, right = st.columns([3, 2])
    left.plotly_chart(board_figure(), width="stretch", key="pg_board")
    if pg.history:
        steps = [r["step"] for r in pg.history]
        curves = go.Figure()
        for k in ("loss_d", "loss_g"):
            curves.add_trace(go.Scatter(x=steps, y=[r[k] for r in pg.history], name=k))
        curves.update_layout(height=280, title="losses", margin={"t": 40, "b": 20})
        right.plotly_chart(curves, width="stretch", key="pg_losses")
        modes = go.Figure(go.Scatter(x=steps, y=[r["modes"] for r in pg.history], name="modes covered"))
        modes.update_layout(height=280, title="modes covered", margin={"t": 40, "b": 20})
        right.plotly_chart(modes, width="stretch", key="pg_modes")
    else:
        right.info("Press Play (or Step) to train.")


board()
