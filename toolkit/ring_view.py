"""A GAN Lab-style view of a 2-D GAN as it trains (Kahng et al. 2018, "GAN Lab"), for the notebooks.

:func:`training_snapshots` trains the playground's small MLP GAN (:class:`toolkit.playground.Playground`:
the lesson-01 networks, 2-D noise, 128 hidden units) for a few hundred steps and records, every few steps,

* the generated points (a fixed set of noise vectors) and the real points;
* D's decision surface: sigmoid(D(x)) over a grid of the plane (for WGAN-GP and hinge the raw score);
* G's gradient arrows: at each of a fixed set of generated points x = G(z), the direction -dL_G/dx in
  which G's loss pushes that point (G can only follow them through its weights).

:func:`training_figure` draws the snapshots as one plotly figure with a slider (one frame per snapshot),
and :func:`show_training` does both: it is the plain function a notebook calls once itself and then wires
to ipywidgets.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .data.toy import ModeQuality
from .playground import PLAYGROUND_LOSSES, Playground, PlaygroundSettings


@dataclass
class Snapshot:
    step: int
    fake: torch.Tensor  # (n, 2) generated points
    axis: torch.Tensor  # (grid,) the coordinates of the surface's rows and columns
    surface: torch.Tensor  # (grid, grid) D's output, rows: y, columns: x
    arrow_from: torch.Tensor  # (arrows, 2) generated points
    push: torch.Tensor  # (arrows, 2) -dL_G/dx at them
    quality: ModeQuality
    loss_d: float | None = None
    loss_g: float | None = None


def snapshot(pg: Playground, row: dict | None = None, grid: int = 40, arrows: int = 64) -> Snapshot:
    axis, surface = pg.decision_surface(grid)
    points, push = pg.gradient_field(arrows)
    return Snapshot(
        pg.step,
        pg.samples(),
        axis,
        surface,
        points,
        push,
        pg.quality(),
        None if row is None else row["loss_d"],
        None if row is None else row["loss_g"],
    )


def training_snapshots(
    steps: int = 300,
    lr: float = 1e-3,
    loss: str = "nonsaturating",
    frames: int = 6,
    seed: int = 0,
    data: str = "ring",
    grid: int = 40,
    arrows: int = 64,
    lr_d: float | None = None,
) -> tuple[Playground, list[Snapshot]]:
    """Train a fresh playground GAN for ``steps`` steps; snapshot it before training and ``frames`` times
    along the way (evenly spaced). ``lr`` is G's learning rate and, unless ``lr_d`` is given, D's."""
    if steps < 1 or frames < 1:
        raise ValueError(f"steps and frames must be >= 1, got steps={steps}, frames={frames}")
    pg = Playground(
        PlaygroundSettings(data=data, loss=loss, lr_g=lr, lr_d=lr if lr_d is None else lr_d, seed=seed)
    )
    shots = [snapshot(pg, None, grid, arrows)]
    frames = min(frames, steps)
    done = 0
    for k in range(1, frames + 1):
        target = round(k * steps / frames)
        row = pg.train(target - done)
        done = target
        shots.append(snapshot(pg, row, grid, arrows))
    return pg, shots


def _arrow_lines(points: torch.Tensor, push: torch.Tensor, length: float) -> tuple[list, list]:
    unit = push / push.norm(dim=1, keepdim=True).clamp_min(1e-12)
    xs: list = []
    ys: list = []
    for (x, y), (dx, dy) in zip(points.tolist(), (unit * length).tolist()):
        xs += [x, x + dx, None]
        ys += [y, y + dy, None]
    return xs, ys


def training_figure(pg: Playground, shots: list[Snapshot], title: str = ""):
    """One plotly figure: D's surface (heatmap), real points, generated points and G's gradient arrows, with
    a slider over the snapshots (the last one is shown first)."""
    import plotly.graph_objects as go

    probability = pg.settings.loss in ("nonsaturating", "minimax")
    extent = pg.extent()
    real = pg.real[:500]
    length = 0.05 * 2 * extent

    def traces(s: Snapshot) -> list:
        ax = s.axis.tolist()
        xs, ys = _arrow_lines(s.arrow_from, s.push, length)
        return [
            go.Heatmap(
                x=ax,
                y=ax,
                z=s.surface.tolist(),
                colorscale="RdBu",
                zmid=0.5 if probability else 0.0,
                zmin=0.0 if probability else None,
                zmax=1.0 if probability else None,
                colorbar={"title": "D: P(real)" if probability else "D's score"},
                opacity=0.75,
            ),
            go.Scatter(
                x=real[:, 0].tolist(),
                y=real[:, 1].tolist(),
                mode="markers",
                name="real",
                marker={"size": 4, "color": "#1a9850"},
            ),
            go.Scatter(
                x=s.fake[:, 0].tolist(),
                y=s.fake[:, 1].tolist(),
                mode="markers",
                name="generated",
                marker={"size": 4, "color": "#762a83"},
            ),
            go.Scatter(x=xs, y=ys, mode="lines", name="G's gradient", line={"color": "black", "width": 1}),
        ]

    def label(s: Snapshot) -> str:
        q = s.quality
        return f"step {s.step}: {q.modes_covered}/{q.num_modes} modes, {q.high_quality:.0%} good"

    last = shots[-1]
    fig = go.Figure(
        data=traces(last),
        frames=[
            go.Frame(data=traces(s), name=str(s.step), layout={"title": {"text": label(s)}}) for s in shots
        ],
    )
    slider = {
        "active": len(shots) - 1,
        "currentvalue": {"prefix": "step "},
        "steps": [
            {
                "label": str(s.step),
                "method": "animate",
                "args": [[str(s.step)], {"mode": "immediate", "frame": {"duration": 0, "redraw": True}}],
            }
            for s in shots
        ],
    }
    fig.update_layout(
        title=(title + " | " if title else "") + label(last),
        height=600,
        width=640,
        xaxis={"range": [-extent, extent]},
        yaxis={"range": [-extent, extent], "scaleanchor": "x"},
        margin={"t": 50, "b": 20},
        legend={"orientation": "h"},
        sliders=[slider],
    )
    return fig


def show_training(
    steps: int = 300,
    lr: float = 1e-3,
    loss: str = "nonsaturating",
    frames: int = 6,
    seed: int = 0,
    data: str = "ring",
):
    """Train a fresh 2-D GAN and return its figure (slider over the snapshots); prints the modes per frame."""
    pg, shots = training_snapshots(steps=steps, lr=lr, loss=loss, frames=frames, seed=seed, data=data)
    print(
        f"{loss}, lr {lr:g}, {steps} steps: "
        + ", ".join(f"step {s.step} {s.quality.modes_covered} modes" for s in shots)
    )
    return training_figure(pg, shots, title=f"{loss}, lr {lr:g}")


__all__ = ["PLAYGROUND_LOSSES", "Snapshot", "show_training", "training_figure", "training_snapshots"]
