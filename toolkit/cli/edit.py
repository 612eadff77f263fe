"""``python -m toolkit edit``: move a projected latent (``project``) along a stored direction (``directions``)
and write G's image of it: z' = z + strength * n. Several strengths write one strip, left to right."""

from __future__ import annotations

import math
import sys
from pathlib import Path

from ..errors import ToolkitError
from .arguments import DEVICE_HELP, RUN_DIR_HELP, generator_run_or_refuse

NAME = "edit"


def check_strengths(values: list[float]) -> list[float]:
    """The --strength values, each a finite number; else a one-line error."""
    if not all(math.isfinite(v) for v in values):
        raise ToolkitError(f"--strength must be finite numbers, got {' '.join(f'{v:g}' for v in values)}")
    return values


def add_parser(sub, argv: list[str]) -> None:
    p = sub.add_parser(
        NAME,
        help="move a projected image along a stored direction (z + strength * direction) and write it",
        description="Read a latent written by `project`, add STRENGTH times the unit direction stored by "
        "`directions`, and write G's image of it; a list of strengths writes one strip.",
    )
    p.add_argument("--run-dir", required=True, help=RUN_DIR_HELP)
    p.add_argument("--latent", required=True, help="a latent .pt file written by python -m toolkit project")
    p.add_argument(
        "--direction",
        required=True,
        help="the attribute whose stored direction to follow (see python -m toolkit directions)",
    )
    p.add_argument(
        "--strength",
        type=float,
        nargs="+",
        default=[2.0],
        help="how far to move (in z's units: a sample's |z| is about sqrt(z_dim)); negative removes the "
        "attribute; several (--strength -3 0 3) write a strip, left to right (default 2)",
    )
    p.add_argument("--out", required=True, help="the .png file to write (an image, or the strip)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it already exists")
    p.add_argument("--device", default="cpu", help=DEVICE_HELP)


def run(args) -> int:
    import torch

    from ..directions import edit, load_direction
    from ..generate import load_generator
    from ..outputs import Staging, check_outputs, replaced_note
    from ..projection import synthesize
    from ..runs import direction_path
    from ..stylize import png_writer
    from ..viz import make_grid
    from .project import needs_z_input, read_latent

    if not str(args.out).lower().endswith(".png"):
        raise ToolkitError(f"--out {args.out} should end in .png")
    values = check_strengths(args.strength)
    generator_run_or_refuse(args.run_dir, NAME)
    state = read_latent(args.latent)
    if state["space"] != "z":
        raise ToolkitError(
            f"--latent {args.latent} is in StyleGAN's w space, but directions are found in z; project "
            "the image again with --space z"
        )
    if not direction_path(args.run_dir, args.direction).is_file():
        raise ToolkitError(
            f"{args.run_dir} has no stored direction {args.direction!r}; find it first: python -m toolkit "
            f"directions --run-dir {args.run_dir} --attribute {args.direction}"
        )
    G, config = load_generator(args.run_dir, args.device)
    needs_z_input(G, config, NAME)
    direction = load_direction(args.run_dir, args.direction, z_dim=G.z_dim)
    if state["latent"].shape != (G.z_dim,):
        raise ToolkitError(
            f"--latent {args.latent} has size {state['latent'].shape[0]} but this run's generator takes "
            f"{G.z_dim}: was it projected with another run?"
        )
    replaced = check_outputs(args.out, inputs=[args.latent], overwrite=args.overwrite)
    device = next(G.parameters()).device
    z = state["latent"].to(device).expand(len(values), -1)
    moved = torch.stack([edit(z[i], direction, s) for i, s in enumerate(values)])
    label = None
    if state.get("label") is not None:
        label = torch.full((len(values),), int(state["label"]), device=device)
    with torch.no_grad():
        images = synthesize(G, moved, "z", label).float().cpu()
    if len(values) == 1:
        write = png_writer(images)
    else:
        from PIL import Image

        strip = make_grid(images, nrow=len(values))
        pil = Image.fromarray(strip)
        write = lambda f: pil.save(f, format="PNG")  # noqa: E731
    with Staging(args.out) as stage:
        stage.write(args.out, write)
    what = (
        f"strength {values[0]:g}" if len(values) == 1 else f"strengths {', '.join(f'{v:g}' for v in values)}"
    )
    print(
        f"wrote {args.out}: {Path(args.latent).name} moved along {direction.attribute!r} by {what}"
        f"{replaced_note(replaced)}",
        file=sys.stderr,
    )
    return 0
