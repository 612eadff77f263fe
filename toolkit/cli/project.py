"""``python -m toolkit project``: find the latent a run's generator maps to your image (GAN inversion,
``toolkit/projection.py``), to edit it afterwards with ``edit``.

Per image NAME of ``--input`` it writes into ``--out``: ``NAME.png`` (G's reconstruction), ``NAME.pt`` (the
latent: this module owns the file's layout, :func:`latent_writer` / :func:`read_latent`), ``NAME.loss.csv``
(the loss after every step, with its parts) and ``NAME.loss.png`` (that curve drawn), and prints each image's
PSNR and feature distance to its reconstruction.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import torch

from ..data.decode import IMAGE_EXTENSIONS
from ..errors import ToolkitError
from .arguments import DEVICE_HELP, OVERWRITE_HELP, RUN_DIR_HELP, generator_run_or_refuse

NAME = "project"
LOSS_COLUMNS = ("step", "loss", "pixel", "feature", "latent_penalty")


def add_parser(sub, argv: list[str]) -> None:
    p = sub.add_parser(
        NAME,
        help="find the latent a run's generator maps to your image (projection), to edit it",
        description="Optimise a latent per image so that the run's generator draws that image (pixel + "
        "feature distance, StyleGAN2's projector schedule), and write the reconstruction, the latent and "
        "the loss curve per image.",
    )
    p.add_argument("--run-dir", required=True, help=RUN_DIR_HELP)
    p.add_argument(
        "--input",
        required=True,
        help="an image file, or a folder of them; each must have the generator's size and channels",
    )
    p.add_argument(
        "--out",
        required=True,
        help="a folder for NAME.png (reconstruction), NAME.pt (latent), NAME.loss.csv and NAME.loss.png",
    )
    p.add_argument(
        "--steps", type=int, default=300, help="optimisation steps per image (default %(default)s)"
    )
    p.add_argument(
        "--space",
        default="z",
        choices=("z", "w"),
        help="where to search: z (default; the space `directions` finds directions in, so the result can be "
        "edited) or w (StyleGAN only: closer reconstructions, but no directions there yet)",
    )
    p.add_argument(
        "--class",
        dest="cls",
        default=None,
        help="the image's class, index or name (conditional runs: cgan, acgan; required there)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed of the start and the noise")
    p.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    p.add_argument("--device", default="cpu", help=DEVICE_HELP)


def input_images(given: str) -> list[Path]:
    """The image files ``--input`` names: the file itself, or a folder's images (sorted)."""
    path = Path(given).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        if not files:
            raise ToolkitError(f"--input {given} has no images ({', '.join(sorted(IMAGE_EXTENSIONS))})")
        return files
    if not path.exists():
        raise ToolkitError(f"--input {given} does not exist; give an image file or a folder of images")
    return [path]


def latent_writer(latent: torch.Tensor, space: str, label: int | None, run_dir: str, image: str):
    """One projected latent (d,) as a function writing the ``.pt`` file ``edit`` reads."""
    state = {
        "latent": latent.detach().cpu().float().clone(),
        "space": space,
        "label": label,
        "run_dir": str(run_dir),
        "image": str(image),
    }
    return lambda f: torch.save(state, f)


def read_latent(path: str | Path) -> dict:
    """A latent file written by ``project``: {latent (d,), space, label, run_dir, image}; else one line."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ToolkitError(f"--latent {path} does not exist; write one with python -m toolkit project")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        ok = isinstance(state, dict) and torch.is_tensor(state["latent"]) and state["latent"].dim() == 1
    except Exception:
        ok = False
    if not ok:
        raise ToolkitError(f"--latent {path} is not a latent written by python -m toolkit project")
    return state


def needs_z_input(G, config: dict, command: str) -> None:
    """A one-line error for a generator without a plain z input (PGGAN's staged one): project, directions and
    edit work in z."""
    if not hasattr(G, "z_dim"):
        raise ToolkitError(
            f"{command} does not handle {config.get('model')} runs yet: it needs a generator with a z input "
            "(dcgan, cgan, stylegan, ...)"
        )


def loss_csv(result) -> str:
    rows = zip(range(1, len(result.losses) + 1), result.losses, result.pixel, result.feature,
               result.latent_penalty)  # fmt: skip
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(LOSS_COLUMNS)
    writer.writerows([step, *(f"{v:.6g}" for v in values)] for step, *values in rows)
    return text.getvalue()


def loss_plot(losses: list[float], title: str, width: int = 480, height: int = 300):
    """The loss curve drawn as a PNG (a function writing it): loss against step, axes labelled."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = 60, 30, width - 15, height - 35
    draw.rectangle([left, top, right, bottom], outline="black")
    low, high = min(losses), max(losses)
    span = (high - low) or 1.0
    n = max(len(losses) - 1, 1)
    points = [
        (left + (right - left) * i / n, bottom - (bottom - top) * (v - low) / span)
        for i, v in enumerate(losses)
    ]
    draw.line(points if len(points) > 1 else points * 2, fill=(200, 40, 40), width=2)
    draw.text((left, 8), title, fill="black")
    draw.text((5, top), f"{high:.3g}", fill="black")
    draw.text((5, bottom - 10), f"{low:.3g}", fill="black")
    draw.text((left, bottom + 8), "step 1", fill="black")
    draw.text((right - 60, bottom + 8), f"step {len(losses)}", fill="black")
    return lambda f: image.save(f, format="PNG")


def run(args) -> int:
    from ..backbones import load_backbone
    from ..generate import class_index, load_generator
    from ..metrics.image_quality import psnr
    from ..models import is_conditional
    from ..outputs import Staging, check_outputs, replaced_note, stop_point
    from ..projection import check_label, check_target, choose_space, image_losses, project, read_image
    from ..stylize import png_writer

    if args.steps < 1:
        raise ToolkitError(f"--steps must be >= 1, got {args.steps}")
    generator_run_or_refuse(args.run_dir, NAME)
    files = input_images(args.input)
    G, config = load_generator(args.run_dir, args.device)
    if config.get("kind") != "images":
        raise ToolkitError(f"{args.run_dir} generates 2-D points, not images; there is nothing to project")
    needs_z_input(G, config, NAME)
    space = choose_space(G, args.space)
    label = None
    if is_conditional(G):
        if args.cls is None:
            raise ToolkitError(
                f"{args.run_dir} is a conditional {config['model']} run: give the images' class with --class "
                f"(one of: {', '.join(config['class_names'])})"
            )
        label = class_index(args.cls, config["class_names"])
    elif args.cls is not None:
        raise ToolkitError(
            f"--class needs a conditional run (cgan, acgan); {args.run_dir} is a {config['model']}"
        )
    targets = []
    for path in files:  # every image checked before any work
        try:
            targets.append(check_target(G, read_image(path)))
        except ToolkitError as exc:
            raise ToolkitError(f"{path}: {exc}") from None
    y = check_label(G, label, 1)
    out = Path(args.out).expanduser()
    outputs = [
        (out / f"{p.stem}{end}", p.name) for p in files for end in (".png", ".pt", ".loss.csv", ".loss.png")
    ]
    replaced = check_outputs(out, outputs, inputs=[args.input], overwrite=args.overwrite, folder=True)
    backbone = load_backbone("fmnist-cnn", args.device)
    layers = list(backbone.style)

    def progress(step, loss):
        stop_point()  # Ctrl-C between two steps

    print(f"projecting {len(files)} image(s) into {space}, {args.steps} steps each", file=sys.stderr)
    with Staging(out) as stage:
        for path, target in zip(files, targets):
            result = project(
                G, target, steps=args.steps, label=y, space=space, backbone=backbone, seed=args.seed,
                progress=progress,
            )  # fmt: skip
            with torch.no_grad():
                target = target.to(result.reconstruction.device)
                pixel, feature, _ = image_losses(result.reconstruction, target, backbone, layers, 1.0, 1.0)
                quality = float(psnr(result.reconstruction.clamp(-1, 1), target.clamp(-1, 1))[0])
            stem = out / path.stem
            stage.write(stem.with_suffix(".png"), png_writer(result.reconstruction))
            stage.write(
                stem.with_suffix(".pt"), latent_writer(result.latent[0], space, label, args.run_dir, path)
            )
            stage.write(out / f"{path.stem}.loss.csv", lambda f: f.write(loss_csv(result)), mode="w")
            stage.write(
                out / f"{path.stem}.loss.png",
                loss_plot(result.losses, f"loss per step, projecting {path.name}"),
            )
            print(
                f"{path.name}: PSNR {quality:.2f} dB, pixel distance {float(pixel[0]):.4g}, feature distance "
                f"{float(feature[0]):.4g} (loss {result.losses[0]:.4g} -> {result.losses[-1]:.4g})",
                file=sys.stderr,
            )
    print(
        f"wrote {len(files)} reconstruction(s), latent(s) and loss curve(s) to {out}"
        f"{replaced_note(replaced)}",
        file=sys.stderr,
    )
    return 0
