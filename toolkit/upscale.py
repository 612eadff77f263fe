"""Super-resolve your own images with a trained SRResNet or SRGAN run: ``python -m toolkit upscale``.

Each image is converted to the channels the run was trained on (grey or RGB) and enlarged ``scale`` times
by the generator, in eval mode, one image at a time. Large images are cut into tiles of ``tile`` input
pixels that overlap by ``overlap`` pixels on every side; each tile's border (where the network saw no
context) is thrown away and the centres are put side by side, so memory stays bounded and no seams show.
``shrink=True`` first shrinks each image by the scale (bicubic, as training did), so the output can be put
beside the original to see what the network recovers. Outputs are PNGs named like the inputs, sub-folders
kept, written after every input and output has been checked (never over an input, nor into an input
folder, nor over an existing file without ``overwrite``), and put in place together at the end
(``toolkit/outputs.py``).

Sizes: an input needs at least 4x4 pixels; the output may have at most ``MAX_OUTPUT_PIXELS`` pixels (so a
mistaken 4x of a large photograph does not exhaust memory: use ``shrink`` or crop it first).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import torch
from torch import nn

from .data.decode import to_8_bit, to_tensor
from .data.super_resolution import downscale
from .errors import ToolkitError
from .generate import load_nets
from .outputs import Staging, check_outputs
from .stylize import png_writer
from .translate import _inputs

MAX_OUTPUT_PIXELS = 64_000_000
MIN_SIDE = 4


def load_upscaler(run_dir: str | Path, device="cpu") -> tuple[nn.Module, dict]:
    """The run's generator (eval mode) and config; a one-line error for a run of another kind."""
    nets, config, _ = load_nets(run_dir, device)
    if config.get("kind") != "super-resolution":
        raise ToolkitError(
            f"{run_dir} is a {config['model']} run; upscale needs an srresnet or srgan run "
            "(python -m toolkit train --model srgan ...)"
        )
    return nets["G"], config


@torch.no_grad()
def upscale_tensor(
    G: nn.Module, x: torch.Tensor, scale: int, tile: int = 64, overlap: int = 8
) -> torch.Tensor:
    """(1, C, h, w) -> (1, C, h*scale, w*scale), tile by tile (see the module docstring)."""
    _, c, h, w = x.shape
    if h <= tile and w <= tile:
        return G(x).clamp(-1, 1)
    out = torch.empty(1, c, h * scale, w * scale, device=x.device)
    for top in range(0, h, tile):
        for left in range(0, w, tile):
            t0, l0 = max(0, top - overlap), max(0, left - overlap)  # the tile with its context
            t1, l1 = min(h, top + tile + overlap), min(w, left + tile + overlap)
            y = G(x[:, :, t0:t1, l0:l1]).clamp(-1, 1)
            bottom, right = min(h, top + tile), min(w, left + tile)
            out[:, :, top * scale : bottom * scale, left * scale : right * scale] = y[
                :, :, (top - t0) * scale : (bottom - t0) * scale, (left - l0) * scale : (right - l0) * scale
            ]
    return out


def upscale_images(
    run_dir: str | Path,
    inputs: str | Path,
    out: str | Path,
    shrink: bool = False,
    tile: int = 64,
    device="cpu",
    overwrite: bool = False,
) -> tuple[list[Path], list[Path]]:
    """Upscale an image file, a folder or a .zip of images into PNGs in ``out``; returns their paths and the
    existing files ``overwrite`` replaced."""
    G, config = load_upscaler(run_dir, device)
    scale = int(config["scale"])
    inputs, out = Path(inputs).expanduser(), Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise ToolkitError(f"--out {out} is a file; give a folder for the upscaled PNGs")
    check_outputs(out, folder=True, inputs=[inputs])  # before reading the inputs
    if not inputs.exists():
        raise ToolkitError(f"--input {inputs} does not exist; give an image, a folder or a .zip of images")
    if tile < 8:
        raise ToolkitError(f"--tile must be at least 8 pixels, got {tile}")
    tensors = []
    for rel, img in _inputs(inputs):
        x = to_tensor([to_8_bit(img)], G.in_channels)
        if shrink:
            h, w = x.shape[-2:]
            if min(h, w) < scale * MIN_SIDE:
                raise ToolkitError(
                    f"{rel} is {w}x{h} pixels; --shrink by {scale} needs at least {scale * MIN_SIDE}x"
                    f"{scale * MIN_SIDE} (to leave {MIN_SIDE}x{MIN_SIDE}): upscale it without --shrink"
                )
            x = downscale(x[..., : h - h % scale, : w - w % scale], scale)
        h, w = x.shape[-2:]
        if min(h, w) < MIN_SIDE:
            raise ToolkitError(
                f"{rel} is {w}x{h} pixels{' after --shrink' if shrink else ''}; upscale needs at least "
                f"{MIN_SIDE}x{MIN_SIDE}"
            )
        if h * w * scale * scale > MAX_OUTPUT_PIXELS:
            raise ToolkitError(
                f"{rel} is {w}x{h} pixels: {scale}x would give {w * scale}x{h * scale}, over "
                f"{MAX_OUTPUT_PIXELS:,} pixels; crop it, or add --shrink to upscale a shrunk copy"
            )
        tensors.append((out / PurePosixPath(rel).with_suffix(".png"), rel, x))
    replaced = check_outputs(
        out, [(t, rel) for t, rel, _ in tensors], inputs=[inputs], overwrite=overwrite, folder=True
    )
    with Staging(out) as stage:
        for target, _, x in tensors:
            stage.write(target, png_writer(upscale_tensor(G, x.to(device), scale, tile).cpu()))
    return [t for t, _, _ in tensors], replaced
