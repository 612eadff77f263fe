"""Pictures of what a GAN does: image grids, plotly curves that update while training, 2-D point
plots, and latent-space interpolation (with an ipywidgets slider for notebooks)."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import torch

from .files import atomic_write


# --- image grids -------------------------------------------------------------------------------
def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[-1, 1] float images (N, C, H, W) -> uint8 (N, C, H, W)."""
    x = images.detach().float().cpu().clamp(-1, 1)
    return ((x + 1) * 127.5).round().to(torch.uint8).numpy()


def make_grid(images: torch.Tensor, nrow: int | None = None, padding: int = 2) -> np.ndarray:
    """Tile (N, C, H, W) images in [-1, 1] into one uint8 array (H', W') or (H', W', 3)."""
    imgs = to_uint8(images)
    n, c, h, w = imgs.shape
    nrow = nrow or max(1, int(math.ceil(math.sqrt(n))))
    ncol = int(math.ceil(n / nrow))
    grid = np.zeros((c, ncol * (h + padding) + padding, nrow * (w + padding) + padding), dtype=np.uint8)
    for i in range(n):
        r, col = divmod(i, nrow)
        y, x = padding + r * (h + padding), padding + col * (w + padding)
        grid[:, y : y + h, x : x + w] = imgs[i]
    return grid[0] if c == 1 else grid.transpose(1, 2, 0)


def grid_png(images: torch.Tensor, nrow: int | None = None, scale: int = 2) -> bytes:
    return array_png(make_grid(images, nrow), scale)


def array_png(pixels: np.ndarray, scale: int = 2) -> bytes:
    """A uint8 picture (H, W) or (H, W, 3) as PNG bytes, enlarged ``scale`` times (nearest neighbour)."""
    from PIL import Image

    img = Image.fromarray(pixels)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def labelled_grid_png(
    images: torch.Tensor, labels: torch.Tensor, class_names: list[str], scale: int = 2
) -> bytes:
    """One row per class present in ``labels`` (its images in order), the class name written left of it."""
    from PIL import Image, ImageDraw

    classes = sorted(set(labels.tolist()))
    per_row = max(int((labels == c).sum()) for c in classes)
    h, w = images.shape[-2:]
    rows = []
    for c in classes:
        row = images[labels == c]
        pad = torch.full((per_row - len(row), *row.shape[1:]), -1.0)  # shorter rows end in black
        rows.append(torch.cat([row, pad]))
    grid = Image.fromarray(make_grid(torch.cat(rows), per_row)).convert("RGB")
    grid = grid.resize((grid.width * scale, grid.height * scale), Image.NEAREST)
    margin = 8 + 7 * max(len(class_names[c]) for c in classes)
    out = Image.new("RGB", (grid.width + margin, grid.height), "white")
    out.paste(grid, (margin, 0))
    draw = ImageDraw.Draw(out)
    for i, c in enumerate(classes):
        y = (2 + i * (h + 2) + h // 2) * scale - 5
        draw.text((4, y), class_names[c], fill="black")
    buf = io.BytesIO()
    out.save(buf, format="PNG")
    return buf.getvalue()


def save_grid(images: torch.Tensor, path: str | Path, nrow: int | None = None, scale: int = 2) -> Path:
    """Write an image grid as PNG, atomically (the dashboard may be reading the folder)."""
    data = grid_png(images, nrow, scale)
    atomic_write(path, lambda f: f.write(data))
    return Path(path)


def show_grid(
    images: torch.Tensor, nrow: int | None = None, title: str | None = None, scale: int = 3
) -> None:
    """Display an image grid in a notebook. Returns None, so a cell that ends with this call shows the grid
    once (returning the image too made Jupyter display it a second time)."""
    from IPython.display import HTML, Image, display

    if title:
        display(HTML(f"<b>{title}</b>"))
    display(Image(data=grid_png(images, nrow, scale)))


# --- curves ------------------------------------------------------------------------------------
def metrics_figure(rows: list[dict], keys: list[str], title: str = "", yaxis: str = ""):
    """A plotly line chart of ``keys`` against step from metrics rows."""
    series = {}
    for k in keys:
        pts = [(r["step"], r[k]) for r in rows if k in r and r[k] is not None]
        if pts:
            series[k] = tuple(zip(*pts))
    return series_figure(series, title, yaxis)


def duration(seconds: float) -> str:
    """45 s, 12 min, 2.5 h."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def series_figure(series: dict[str, tuple], title: str = "", yaxis: str = ""):
    """A plotly line chart of named (steps, values) series (e.g. from ``toolkit.runs.MetricsTail``)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for k, (xs, ys) in series.items():
        if len(xs):
            # numpy arrays: plotly copies them whole instead of validating every element
            fig.add_trace(go.Scatter(x=np.asarray(xs), y=np.asarray(ys, dtype=float), mode="lines", name=k))
    fig.update_layout(
        title=title,
        xaxis_title="step",
        yaxis_title=yaxis,
        height=320,
        margin=dict(l=40, r=10, t=40, b=40),
        template="plotly_white",
    )
    return fig


def points_figure(
    samples: torch.Tensor, real: torch.Tensor | None = None, title: str = "", lim: float | None = None
):
    """2-D scatter of generated points over the real ones."""
    import plotly.graph_objects as go

    fig = go.Figure()
    if real is not None:
        r = real[:2000].cpu().numpy()
        fig.add_trace(
            go.Scatter(
                x=r[:, 0],
                y=r[:, 1],
                mode="markers",
                name="real",
                marker=dict(size=4, color="rgba(30,30,30,0.35)"),
            )
        )
    s = samples.detach().cpu().numpy()
    fig.add_trace(
        go.Scatter(
            x=s[:, 0],
            y=s[:, 1],
            mode="markers",
            name="generated",
            marker=dict(size=4, color="rgba(220,60,40,0.6)"),
        )
    )
    fig.update_layout(
        title=title, width=430, height=420, template="plotly_white", margin=dict(l=30, r=10, t=40, b=30)
    )
    if lim:
        fig.update_xaxes(range=[-lim, lim])
        fig.update_yaxes(range=[-lim, lim], scaleanchor="x")
    return fig


class LivePlot:
    """Training callback for notebooks: redraws loss curves (and the latest samples) in place every
    time the loop logs, using an IPython display handle (works in JupyterLab, VS Code and nbval)."""

    def __init__(
        self, keys=("loss_d", "loss_g"), title: str = "training", every: int = 1, show_samples: bool = True
    ):
        self.keys, self.title, self.every, self.show_samples = list(keys), title, every, show_samples
        self._plot = self._img = None
        self._n = 0

    def on_log(self, trainer, row):
        from IPython.display import display

        self._n += 1
        if self._n % self.every:
            return
        fig = metrics_figure(trainer.history, self.keys, f"{self.title} - step {row['step']}")
        if self._plot is None:
            self._plot = display(fig, display_id=True)
        else:
            self._plot.update(fig)

    def on_sample(self, trainer, step, images):
        from IPython.display import Image, display

        if not self.show_samples or images.ndim != 4:
            return
        img = Image(data=grid_png(images[:64], scale=2))
        if self._img is None:
            self._img = display(img, display_id=True)
        else:
            self._img.update(img)

    def on_end(self, trainer):
        if self.keys and self._plot is not None:
            self._plot.update(
                metrics_figure(trainer.history, self.keys, f"{self.title} - finished at step {trainer.step}")
            )


# --- latent interpolation ------------------------------------------------------------------------
def lerp(z0: torch.Tensor, z1: torch.Tensor, t: float) -> torch.Tensor:
    return (1 - t) * z0 + t * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: float, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation (White 2016): follows the great circle, so intermediate vectors keep
    the norm a Gaussian latent typically has (linear interpolation passes closer to the origin)."""
    a, b = z0 / z0.norm(dim=-1, keepdim=True), z1 / z1.norm(dim=-1, keepdim=True)
    omega = torch.acos((a * b).sum(-1, keepdim=True).clamp(-1 + eps, 1 - eps))
    so = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / so) * z0 + (torch.sin(t * omega) / so) * z1


def interpolate(z0: torch.Tensor, z1: torch.Tensor, steps: int, method: str = "slerp") -> torch.Tensor:
    """``steps`` latent vectors from z0 to z1 inclusive, shape (steps, z_dim)."""
    fn = slerp if method == "slerp" else lerp
    return torch.stack([fn(z0, z1, float(t)) for t in torch.linspace(0, 1, steps)])


def latent_from_seed(seed: int, z_dim: int) -> torch.Tensor:
    return torch.randn(z_dim, generator=torch.Generator().manual_seed(int(seed)))


@torch.no_grad()
def latent_walk_widget(
    generator, z_dim: int, seed_a: int = 0, seed_b: int = 1, method: str = "slerp", scale: int = 6
):
    """An ipywidgets slider that walks from seed_a's latent to seed_b's through ``generator``."""
    import ipywidgets as widgets

    generator.eval()
    device = next(generator.parameters()).device
    out = widgets.Image(format="png")
    t = widgets.FloatSlider(0.0, min=0.0, max=1.0, step=0.05, description="t")
    a = widgets.IntText(seed_a, description="seed A")
    b = widgets.IntText(seed_b, description="seed B")
    how = widgets.ToggleButtons(options=["slerp", "lerp"], value=method)

    def redraw(*_):
        z0, z1 = latent_from_seed(a.value, z_dim), latent_from_seed(b.value, z_dim)
        fn = slerp if how.value == "slerp" else lerp
        with torch.no_grad():
            img = generator(fn(z0, z1, t.value)[None].to(device)).cpu()
        out.value = grid_png(img, scale=scale)

    for w in (t, a, b, how):
        w.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([a, b, how]), t, out])


@torch.no_grad()
def class_interpolation(G, z: torch.Tensor, class_a: int, class_b: int, n: int = 8) -> torch.Tensor:
    """n images from one latent z as the label slides from class_a to class_b (soft labels
    (1 - t) one_hot(a) + t one_hot(b)); needs a conditional generator."""
    C = getattr(G, "num_classes", 0)
    if C < 2:
        raise ValueError("class interpolation needs a conditional generator")
    device = next(G.parameters()).device
    t = torch.linspace(0, 1, n, device=device)[:, None]
    eye = torch.eye(C, device=device)
    soft = (1 - t) * eye[class_a] + t * eye[class_b]
    was_training = G.training
    G.eval()
    out = G(z.view(1, -1).to(device).expand(n, -1), soft)
    G.train(was_training)
    return out.float().cpu()
