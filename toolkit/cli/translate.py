"""``python -m toolkit translate``: translate your images with a pix2pix or CycleGAN run."""

from __future__ import annotations

import sys

from .arguments import DEVICE_HELP, OVERWRITE_HELP

NAME = "translate"


def add_parser(sub, argv: list[str]) -> None:
    p = sub.add_parser(
        NAME,
        help="translate your images with a pix2pix or CycleGAN run",
        description="Translate an image, a folder or a .zip of images with a trained pix2pix or CycleGAN "
        "run, writing one PNG per input (same name, sub-folders kept) into --out. Each image is translated "
        "at its own size when the network takes it (sides a multiple of 32 for pix2pix at 32 px, of 4 "
        "for CycleGAN); --resize scales every image to the training size instead.",
    )
    p.add_argument("--run-dir", required=True, help="a pix2pix or cyclegan run directory")
    p.add_argument("--input", required=True, help="an image file, a folder or a .zip of images")
    p.add_argument(
        "--out", required=True, help="the folder the translated PNGs are written to (not inside --input)"
    )
    p.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    p.add_argument(
        "--direction",
        default="a2b",
        choices=("a2b", "b2a"),
        help="a2b (default) or b2a; b2a needs a CycleGAN run, which trains both directions",
    )
    p.add_argument(
        "--resize",
        action="store_true",
        help="centre-crop each image to a square and scale it to the run's training resolution",
    )
    p.add_argument("--device", default="cpu", help=DEVICE_HELP)


def run(args) -> int:
    from ..outputs import replaced_note
    from ..runtime import pick_device
    from ..translate import translate_images

    device = pick_device(args.device)
    written, replaced = translate_images(
        args.run_dir, args.input, args.out, args.direction, args.resize, device, args.overwrite
    )
    print(
        f"wrote {len(written)} translated image(s) ({args.direction}) to {args.out}{replaced_note(replaced)}",
        file=sys.stderr,
    )
    return 0
