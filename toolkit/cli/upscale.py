"""``python -m toolkit upscale``: super-resolve your images with an srresnet or srgan run."""

from __future__ import annotations

import sys

from .arguments import DEVICE_HELP, OVERWRITE_HELP

NAME = "upscale"


def add_parser(sub, argv: list[str]) -> None:
    p = sub.add_parser(
        NAME,
        help="super-resolve your images with an srresnet or srgan run",
        description="Enlarge an image, a folder or a .zip of images by the run's scale (e.g. 4x) with a "
        "trained srresnet or srgan run, writing one PNG per input (same name, sub-folders kept) into --out. "
        "Large images are processed in overlapping tiles.",
    )
    p.add_argument("--run-dir", required=True, help="an srresnet or srgan run directory")
    p.add_argument("--input", required=True, help="an image file, a folder or a .zip of images")
    p.add_argument(
        "--out", required=True, help="the folder the upscaled PNGs are written to (not inside --input)"
    )
    p.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    p.add_argument(
        "--shrink",
        action="store_true",
        help="first shrink each image by the scale (bicubic, as in training), to compare with the original",
    )
    p.add_argument("--tile", type=int, default=64, help="tile side in input pixels (default %(default)s)")
    p.add_argument("--device", default="cpu", help=DEVICE_HELP)


def run(args) -> int:
    from ..outputs import replaced_note
    from ..runtime import pick_device
    from ..upscale import upscale_images

    written, replaced = upscale_images(
        args.run_dir, args.input, args.out, args.shrink, args.tile, pick_device(args.device), args.overwrite
    )
    print(f"wrote {len(written)} upscaled image(s) to {args.out}{replaced_note(replaced)}", file=sys.stderr)
    return 0
