"""Using a trained run: rebuild its nets from a run directory and write samples.

``load_nets(run_dir)`` rebuilds every net from config.json and loads checkpoints/last.pt, taking the EMA
weights when the run kept them (they give smoother, better samples); ``load_generator(run_dir)`` is the
module that draws samples from them (``sample``, ``eval``, the dashboard).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .errors import ToolkitError
from .families import DataSpec, family_for
from .models import is_conditional
from .models.conditional import check_labels
from .outputs import stop_point
from .runs import CONFIG, Run
from .viz import to_uint8


def load_nets(
    run_dir: str | Path, device: str | torch.device = "cpu", use_ema: bool = True
) -> tuple[dict[str, nn.Module], dict, dict]:
    """Rebuild a run's nets from config.json and load its checkpoint, in eval mode: EMA weights where the run
    kept them (``use_ema``). Returns (nets by name, config with "checkpoint_step", family state)."""
    run = Run(run_dir)
    if not run.dir.is_dir():
        raise ToolkitError(f"run directory {run.dir} does not exist")
    config = run.config()
    state = run.load_checkpoint(device)
    if "model" not in config or "sample_shape" not in config:
        raise ToolkitError(f"{run.dir / CONFIG} is not a toolkit run's config (no model or sample_shape)")
    family = family_for(config["model"])
    nets = family.build_nets(family.Config.from_dict(config), DataSpec.from_config(config))
    for name, net in nets.items():
        weights = state["ema"].get(name) if use_ema else None
        try:
            net.load_state_dict(weights if weights is not None else state["nets"][name])
        except (RuntimeError, KeyError):
            raise ToolkitError(
                f"the checkpoint in {run.dir} does not match its config.json (model "
                f"{config['model']!r}); was it copied from another run?"
            ) from None
        net.to(device).eval()
    config["checkpoint_step"] = int(state["step"])
    return nets, config, state.get("family_state", {})


def load_generator(
    run_dir: str | Path, device: str | torch.device = "cpu", use_ema: bool = True
) -> tuple[nn.Module, dict]:
    """The run's generator, ready to sample: ``G(z)`` (``G(z, y)`` for conditional models), in eval mode, and
    its config. EMA weights when the run kept them. A family whose generator needs more than z (PGGAN's stage)
    wraps it (see its ``sampler``)."""
    nets, config, family_state = load_nets(run_dir, device, use_ema)
    return family_for(config["model"]).sampler(nets, config, family_state), config


@torch.no_grad()
def generate(
    G: nn.Module, n: int, z_dim: int, seed: int = 0, batch_size: int = 256, labels: torch.Tensor | None = None
) -> torch.Tensor:
    """n samples from seeded latents, in batches, on the CPU. A conditional generator gets ``labels``
    (one per sample, or one for all; default: balanced 0, 1, ..., C-1, 0, ...)."""
    device = next(G.parameters()).device
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, z_dim, generator=g)
    if labels is not None:
        if not is_conditional(G):
            raise ToolkitError("this generator is unconditional: it cannot be asked for a class")
        labels = check_labels(labels, n, G.num_classes, "cpu")  # one label for all, or one per sample
    out = []
    for i in range(0, n, batch_size):
        stop_point()  # Ctrl-C / SIGTERM from the command line
        zb = z[i : i + batch_size].to(device)
        out.append(
            (G(zb, labels[i : i + batch_size].to(device)) if labels is not None else G(zb)).float().cpu()
        )
    return torch.cat(out)


def class_index(value: str | int, class_names: list[str]) -> int:
    """A class given by index ("3") or by name ("Dress", case-insensitive) -> its index."""
    names = [c.lower() for c in class_names]
    if not class_names:
        raise ToolkitError("this run's data have no classes")
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        i = int(text)
        if not 0 <= i < len(class_names):
            raise ToolkitError(f"class {i} is out of range; this run has classes 0..{len(class_names) - 1}")
        return i
    if text.lower() not in names:
        raise ToolkitError(
            f"unknown class {text!r}; choose one of: {', '.join(class_names)} (or 0..{len(class_names) - 1})"
        )
    return names.index(text.lower())


NOT_A_FOLDER = (".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".npy", ".zip", ".pt", ".csv")


def _file_name(i: int, label: int | None, class_names: list[str] | None) -> str:
    if label is None or not class_names:
        return f"{i:06d}.png"
    return f"{i:06d}_{re.sub(r'[^A-Za-z0-9_.-]+', '-', class_names[label]).strip('-')}.png"


def sample_paths(
    out: str | Path, n: int, labels: torch.Tensor | None = None, class_names: list[str] | None = None
) -> list[Path]:
    """The files :func:`write_samples` writes for ``n`` images: ``out`` itself (.png, .npz), or the PNGs
    (and labels.csv) in the folder ``out``; a one-line error for a file name it does not write."""
    out = Path(out).expanduser()
    if out.suffix.lower() in NOT_A_FOLDER:
        raise ToolkitError(
            f"--out {out}: sample writes a folder of PNGs, a .npz file or one .png grid, not a "
            f"{out.suffix} file; choose one of those"
        )
    if out.suffix in (".png", ".npz"):
        return [out]
    named = labels is not None and bool(class_names)
    names = [_file_name(i, int(labels[i]) if named else None, class_names) for i in range(n)]
    return [out / name for name in names] + ([out / "labels.csv"] if named else [])


def write_samples(
    images: torch.Tensor,
    out: str | Path,
    labels: torch.Tensor | None = None,
    class_names: list[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """A folder of PNGs (000000.png, ...; with labels 000000_Dress.png, ... and a labels.csv of file, label,
    class); or, when ``out`` ends in .npz, one file with a uint8 array ``images`` (N, C, H, W), and ``labels``
    and ``class_names`` when given; or, when it ends in .png, one grid image (with labels: one row per class,
    named at its left). The folder must be new or empty, and a file new, unless ``overwrite``; everything
    appears together at the end, or nothing (``toolkit/outputs.py``)."""
    from PIL import Image

    from .outputs import Staging, check_outputs
    from .viz import grid_png, labelled_grid_png

    out = Path(out).expanduser()
    named = labels is not None and bool(class_names)
    paths = sample_paths(out, len(images), labels, class_names)
    folder = out.suffix not in (".png", ".npz")
    try:
        check_outputs(out, [(p, "") for p in paths], overwrite=overwrite, folder=folder, new_folder=folder)
        with Staging(out) as stage:
            if out.suffix == ".png":
                data = labelled_grid_png(images, labels.cpu(), class_names) if named else grid_png(images)
                stage.write(out, lambda f: f.write(data))
                return out
            arr = to_uint8(images)
            if out.suffix == ".npz":
                arrays = {"images": arr}
                if labels is not None:
                    arrays["labels"] = labels.cpu().numpy()
                if named:
                    arrays["class_names"] = np.array(class_names)
                stage.write(out, lambda f: np.savez_compressed(f, **arrays))
                return out
            rows = ["file,label,class"]
            for i, (img, path) in enumerate(zip(arr, paths)):
                pil = Image.fromarray(img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0))
                stage.write(path, lambda f, pil=pil: pil.save(f, format="PNG"))
                if named:
                    label = int(labels[i])
                    rows.append(f'{path.name},{label},"{class_names[label]}"')
            if named:
                stage.write(out / "labels.csv", lambda f: f.write(("\n".join(rows) + "\n").encode()))
    except OSError as exc:
        raise ToolkitError(
            f"cannot write samples to {out} ({exc.strerror or exc}); choose another --out"
        ) from None
    return out
