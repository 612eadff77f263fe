"""What the dashboard's style-mixing view shows of a StyleGAN run, worked out without Streamlit (lesson 14).

**Style mixing** (StyleGAN section 3.2, figure 3). Sources A (one per row) and sources B (one per column) are
images of their own latents. The cell (i, j) gives every synthesis layer A_i's w, except the layers in
``b_layers`` = (start, stop), which take B_j's w. The layers are in order of resolution, so the first ones set
the coarse styles (pose, shape) and the last ones the fine ones (texture, shading). A crossover k, as in
training's mixing regularisation and :func:`toolkit.models.stylegan.mix_styles`, is
``b_layers = (k, num_ws)``: crossover 0 gives every layer B's w, crossover ``num_ws`` none.

**Truncation** (section 3.1 / appendix B): w' = w_avg + psi (w - w_avg), towards the generator's tracked
average ``mapping.w_avg``. psi = 1 leaves w alone (every sample as drawn, the most diverse); psi = 0 gives
the average image for every latent. :func:`mean_pairwise_distance` measures what psi takes away.

Latents: one draw from the seed (``torch.randn(n, z_dim, generator=torch.Generator().manual_seed(seed))``)
gives the sources A, then B, then the samples row, so a seed always shows the same images. Synthesis uses
the stored noise maps (``"const"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .errors import ToolkitError
from .viz import to_uint8

BANDS = ("coarse", "middle", "fine")  # the paper's names; :func:`layer_bands` says which layers each holds


def check_stylegan(G: nn.Module) -> None:
    """A one-line error unless ``G`` is a StyleGAN generator (a mapping network with w_avg, a synthesis)."""
    mapping = getattr(G, "mapping", None)
    if getattr(G, "synthesis", None) is None or not isinstance(getattr(mapping, "w_avg", None), torch.Tensor):
        raise ToolkitError(
            f"style mixing needs a StyleGAN generator (mapping network with w_avg, synthesis network); "
            f"this is a {type(G).__name__}: train one with --model stylegan"
        )


def check_psi(psi: float) -> float:
    """psi as a float, or a one-line error when it is outside [0, 1]."""
    if isinstance(psi, bool) or not isinstance(psi, (int, float)) or not 0 <= psi <= 1:
        raise ToolkitError(
            f"psi must be in [0, 1] (1: no truncation, 0: every sample is the average image); got {psi!r}"
        )
    return float(psi)


def check_w_avg(G: nn.Module) -> torch.Tensor:
    """The generator's tracked average w, or a one-line error when it holds none (all zeros: never updated,
    or not finite)."""
    check_stylegan(G)
    w_avg = G.mapping.w_avg
    if not torch.isfinite(w_avg).all() or not w_avg.abs().sum() > 0:
        state = "is not finite" if not torch.isfinite(w_avg).all() else "is all zeros (never tracked)"
        raise ToolkitError(
            f"this run's generator has no average w to truncate towards: mapping.w_avg {state}; "
            "train it a few steps more, or use psi = 1"
        )
    return w_avg


def layer_resolutions(G: nn.Module) -> list[int]:
    """The resolution each of the ``num_ws`` layers' w drives: w l feeds conv layer l (and the toRGB of the
    block before, as in stylegan2-ada); the last one feeds only the final toRGB, at full resolution. (The
    paper's "layers 0-3 are 4-8 px" counts StyleGAN1's two ws per resolution; here 4-8 px is ws 0-2.)"""
    check_stylegan(G)
    blocks = G.synthesis.blocks
    return [block.resolution for block in blocks for _ in block.convs] + [blocks[-1].resolution]


def layer_bands(G: nn.Module) -> dict[str, tuple[int, int]]:
    """The layer ranges (start, stop) of the paper's bands, for this generator's resolutions: coarse = 4-8 px,
    fine = 64 px and up or the full resolution, middle = the rest. A small model lacks some (a 32 px one has
    coarse 4-8, middle 16, fine 32); only the bands with layers are returned."""
    resolutions = layer_resolutions(G)
    full = resolutions[-1]

    def band(r: int) -> str:
        if r >= 64 or r == full:
            return "fine"
        return "coarse" if r <= 8 else "middle"

    out = {}
    for name in BANDS:
        layers = [i for i, r in enumerate(resolutions) if band(r) == name]
        if layers:
            out[name] = (layers[0], layers[-1] + 1)
    return out


def check_b_layers(b_layers: tuple[int, int], num_ws: int) -> tuple[int, int]:
    start, stop = (int(x) for x in b_layers)
    if not 0 <= start <= stop <= num_ws:
        raise ToolkitError(
            f"the layers that take B's styles must be a range (start, stop) with 0 <= start <= stop <= "
            f"{num_ws}; got ({start}, {stop})"
        )
    return start, stop


def mixed_ws(ws_a: torch.Tensor, ws_b: torch.Tensor, b_layers: tuple[int, int]) -> torch.Tensor:
    """The per-layer w of every cell: ws_a (rows, L, D), ws_b (cols, L, D) -> (rows, cols, L, D), where cell
    (i, j) has ws_a[i] in every layer but [start, stop), which has ws_b[j]."""
    start, stop = check_b_layers(b_layers, ws_a.shape[1])
    rows, cols = ws_a.shape[0], ws_b.shape[0]
    cells = ws_a[:, None].expand(rows, cols, *ws_a.shape[1:]).clone()
    cells[:, :, start:stop] = ws_b[None, :, start:stop]
    return cells


def seeded_latents(seed: int, counts: tuple[int, ...], z_dim: int) -> list[torch.Tensor]:
    """One draw of (sum(counts), z_dim) normal latents from ``seed``, split in order: a batch per count."""
    if not isinstance(seed, int) or seed < 0:
        raise ToolkitError(f"the seed must be a whole number >= 0, got {seed!r}")
    z = torch.randn(sum(counts), z_dim, generator=torch.Generator().manual_seed(seed))
    return list(z.split(list(counts)))


@dataclass
class MixingGrid:
    sources_a: torch.Tensor  # (rows, C, H, W): A's own images (every layer from A)
    sources_b: torch.Tensor  # (cols, C, H, W)
    cells: torch.Tensor  # (rows, cols, C, H, W)
    samples: torch.Tensor  # (samples, C, H, W): more latents of the seed, at the same psi
    ws: torch.Tensor  # (rows, cols, num_ws, w_dim): what synthesis was given for the cells

    def figure(self, padding: int = 2, gutter: int = 6) -> np.ndarray:
        """The paper's layout as one uint8 picture (H, W) or (H, W, 3) on white: sources B across the top,
        sources A down the left, the top-left corner empty, ``padding`` pixels between images and ``gutter``
        more between the sources and the cells, so the sources read as labels of the rows and columns."""
        rows, cols = self.cells.shape[:2]
        c, h, w = self.cells.shape[2:]
        step_y, step_x = h + padding, w + padding
        body_y, body_x = padding + step_y + gutter, padding + step_x + gutter  # where the cells start
        canvas = np.full((c, body_y + rows * step_y, body_x + cols * step_x), 255, dtype=np.uint8)

        def put(image: torch.Tensor, y: int, x: int) -> None:
            canvas[:, y : y + h, x : x + w] = to_uint8(image[None])[0]

        for j in range(cols):
            put(self.sources_b[j], padding, body_x + j * step_x)
        for i in range(rows):
            put(self.sources_a[i], body_y + i * step_y, padding)
            for j in range(cols):
                put(self.cells[i, j], body_y + i * step_y, body_x + j * step_x)
        return canvas[0] if c == 1 else canvas.transpose(1, 2, 0)


@torch.no_grad()
def style_mixing_grid(
    G: nn.Module,
    seed: int,
    b_layers: tuple[int, int],
    psi: float = 1.0,
    rows: int = 3,
    cols: int = 5,
    samples: int = 8,
) -> MixingGrid:
    """Sources A (``rows``) and B (``cols``) from ``seed``, every cell's mix (:func:`mixed_ws`), and a row of
    ``samples`` more latents, every w truncated towards w_avg by ``psi``; in one synthesis call, in eval mode
    with the stored noise maps. ``G`` is a run's generator (its EMA copy, as ``load_generator`` gives)."""
    check_stylegan(G)
    psi = check_psi(psi)
    if psi != 1:
        check_w_avg(G)
    if min(rows, cols) < 1 or samples < 2:
        raise ToolkitError(
            f"a mixing grid needs rows, cols >= 1 and samples >= 2; got {rows}, {cols}, {samples}"
        )
    b_layers = check_b_layers(b_layers, G.num_ws)
    was_training = G.training
    G.eval()
    z_a, z_b, z_s = seeded_latents(seed, (rows, cols, samples), G.z_dim)
    device = next(G.parameters()).device
    ws_a, ws_b, ws_s = (G.styles(z.to(device), psi) for z in (z_a, z_b, z_s))
    cells = mixed_ws(ws_a, ws_b, b_layers)
    everything = torch.cat([ws_a, ws_b, cells.flatten(0, 1), ws_s])
    images = G.synthesis(everything, noise_mode="const").float().cpu()
    G.train(was_training)
    a, b, c, s = images.split([rows, cols, rows * cols, samples])
    return MixingGrid(a, b, c.view(rows, cols, *c.shape[1:]), s, cells.cpu())


def mean_pairwise_distance(images: torch.Tensor) -> float:
    """Diversity of ``images`` (N, C, H, W) in [-1, 1]: the mean over the N(N-1)/2 pairs of their
    root-mean-square pixel difference (0: all alike; 2: as far apart as black and white)."""
    if images.dim() != 4 or images.shape[0] < 2:
        raise ToolkitError(f"diversity needs two or more images (N, C, H, W); got {tuple(images.shape)}")
    flat = images.flatten(1).double()
    distances = torch.cdist(flat, flat) / flat.shape[1] ** 0.5
    i, j = torch.triu_indices(len(flat), len(flat), offset=1)
    return float(distances[i, j].mean())
