"""Use a trained translator (pix2pix, CycleGAN) on your own images: ``python -m toolkit translate``.

Each image is translated at its own size when the network accepts it (both generators are fully
convolutional: the U-Net needs sides that are multiples of 2^num_downs, e.g. 32; CycleGAN's ResNet
multiples of 4), converted to the channels the run was trained on (grey or RGB), one image at a time
in eval mode, so a translation does not depend on the other files. ``resize=True`` instead centre-crops
every image to a square and scales it to the training resolution, as training did. Outputs are PNGs
named like the inputs (``shoe.jpg`` -> ``shoe.png``), sub-folders kept. What may be written where (never over
an input, nor into an input folder, nor over an existing file without ``overwrite``) is checked before any
work, and the PNGs appear together at the end, or none of them (``toolkit/outputs.py``).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import torch
from torch import nn

from .data.decode import IMAGE_EXTENSIONS, list_entries, read_images, square, to_8_bit, to_tensor
from .errors import ToolkitError
from .generate import load_nets
from .outputs import Staging, check_outputs


def load_translator(run_dir: str | Path, direction: str = "a2b", device="cpu") -> tuple[nn.Module, dict]:
    """The run's generator for ``direction`` (pix2pix: a2b; CycleGAN: a2b or b2a), in eval mode, and the
    run's config."""
    from .families import family_for
    from .families.translation import TranslationFamily

    nets, config, _ = load_nets(run_dir, device)
    family = family_for(config["model"])
    if config.get("kind") == "super-resolution":
        raise ToolkitError(
            f"{run_dir} is a {config['model']} run, which enlarges images; use upscale for it (it tiles "
            "large images and limits the output size): python -m toolkit upscale --run-dir RUN --input ... "
            "--out ..."
        )
    if not issubclass(family, TranslationFamily):
        raise ToolkitError(
            f"{run_dir} is a {config['model']} run, which generates from noise; translate needs a pix2pix or "
            "cyclegan run (use sample for this one)"
        )
    return family.translator(nets, direction), config


def _inputs(path: Path) -> list:
    """(name, PIL image) for an image file, or for each image of a folder or .zip."""
    if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS:
        return list(read_images([(path.name, path.read_bytes)], path.parent))
    entries, skipped = list_entries(path)
    if not entries:
        raise ToolkitError(f"no images found in {path} ({skipped} other files skipped)")
    return list(read_images(entries, path))


@torch.no_grad()
def translate_images(
    run_dir: str | Path,
    inputs: str | Path,
    out: str | Path,
    direction: str = "a2b",
    resize: bool = False,
    device="cpu",
    overwrite: bool = False,
) -> tuple[list[Path], list[Path]]:
    """Translate an image file, a folder or a .zip of images into PNGs in ``out``; returns their paths and
    the existing files ``overwrite`` replaced. Every input is checked (decodes, has a size the network
    takes), and so is every output (``toolkit/outputs.py``), before anything is written."""
    from .stylize import png_writer

    G, config = load_translator(run_dir, direction, device)
    inputs, out = Path(inputs).expanduser(), Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise ToolkitError(f"--out {out} is a file; give a folder for the translated PNGs")
    check_outputs(out, folder=True, inputs=[inputs])  # before reading the inputs
    if not inputs.exists():
        raise ToolkitError(f"--input {inputs} does not exist; give an image, a folder or a .zip of images")
    channels = G.in_channels
    multiple = G.multiple
    resolution = int(config["sample_shape"][-1])
    tensors = []
    for rel, img in _inputs(inputs):
        img = to_8_bit(img)
        if resize:
            img = square(img, resolution)
        w, h = img.size
        if w % multiple or h % multiple or min(w, h) < multiple:
            fit_w, fit_h = max(multiple, w - w % multiple), max(multiple, h - h % multiple)
            raise ToolkitError(
                f"{rel} is {w}x{h} pixels; this {config['model']} network takes sides that are multiples of "
                f"{multiple} (e.g. {fit_w}x{fit_h}): crop "
                f"it, or add --resize to centre-crop and scale every image to the training size "
                f"{resolution}x{resolution}"
            )
        tensors.append((out / PurePosixPath(rel).with_suffix(".png"), rel, to_tensor([img], channels)))
    replaced = check_outputs(
        out, [(t, rel) for t, rel, _ in tensors], inputs=[inputs], overwrite=overwrite, folder=True
    )
    with Staging(out) as stage:
        for target, _, x in tensors:
            stage.write(target, png_writer(G(x.to(device)).float().cpu()))
    return [t for t, _, _ in tensors], replaced
