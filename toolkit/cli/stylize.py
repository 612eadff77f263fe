"""``python -m toolkit stylize``: paint one image in the style of another (Gatys et al.)."""

from __future__ import annotations

import math
import sys

import torch

from ..errors import ToolkitError
from .arguments import DEVICE_HELP

NAME = "stylize"


def add_parser(sub, argv: list[str]) -> None:
    from ..backbones import BACKBONES

    p = sub.add_parser(
        NAME,
        help="paint one image in the style of another (optimisation-based style transfer)",
        description="Optimise the pixels of --content's image so that a frozen network's features match it "
        "while its Gram matrices match --style's (Gatys et al.), and write the result as a PNG.",
        epilog="Backbones -- " + "; ".join(f"{k}: {v}" for k, v in BACKBONES.items()),
    )
    p.add_argument("--content", required=True, help="the image whose content is kept")
    p.add_argument("--style", required=True, help="the image whose style (textures, colours) is taken")
    p.add_argument("--out", required=True, help="the .png file to write (not --content or --style)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it already exists")
    p.add_argument("--steps", type=int, default=200, help="optimisation steps (default %(default)s)")
    p.add_argument("--size", type=int, default=256, help="longest side of the output (default %(default)s)")
    p.add_argument(
        "--content-weight",
        type=float,
        default=1.0,
        help="weight of keeping --content's features (default %(default)s; about 1e4 holds the layout)",
    )
    p.add_argument(
        "--style-weight",
        type=float,
        default=1e5,
        help="weight of matching --style's Gram matrices (default %(default)g; only its ratio to the "
        "content weight matters)",
    )
    p.add_argument(
        "--tv-weight",
        type=float,
        default=0.1,
        help="weight of smoothness, against pixel noise (default %(default)s)",
    )
    p.add_argument(
        "--backbone",
        default=None,
        choices=tuple(BACKBONES),
        help="default: vgg16, else vgg19, when its ImageNet weights are on this machine; else fmnist-cnn",
    )
    p.add_argument("--weights", default=None, help="weight file of --backbone (default: its usual place)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    p.add_argument("--device", default="cpu", help=DEVICE_HELP)


def run(args) -> int:

    from ..backbones import best_backbone, load_backbone
    from ..outputs import Staging, check_outputs, replaced_note
    from ..runtime import pick_device
    from ..stylize import png_writer, read_image, style_transfer

    if not str(args.out).lower().endswith(".png"):
        raise ToolkitError(f"--out {args.out} should end in .png")
    if args.size < 16:
        raise ToolkitError(f"--size must be at least 16 pixels, got {args.size}")
    if args.steps < 1:
        raise ToolkitError(f"--steps must be >= 1, got {args.steps}")
    for name in ("content_weight", "style_weight", "tv_weight"):
        weight = getattr(args, name)
        if not math.isfinite(weight) or weight < 0:
            raise ToolkitError(f"--{name.replace('_', '-')} must be a finite number >= 0, got {weight}")
    device = pick_device(args.device)
    content = read_image(args.content, args.size).to(device)
    style = read_image(args.style, args.size).to(device)
    # before the optimisation: where the result may go (not over --content or --style, nor an existing file)
    replaced = check_outputs(args.out, inputs=[args.content, args.style], overwrite=args.overwrite)
    name = args.backbone or best_backbone()
    try:
        backbone = load_backbone(name, device, args.weights)
    except ToolkitError:
        raise
    except Exception as exc:  # a file that is not a checkpoint at all (torch.load's KeyError, ...)
        raise ToolkitError(
            f"--weights {args.weights} is not a weight file of {name} ({type(exc).__name__}); give the "
            f"backbone's own .pt/.pth file, or leave --weights out"
        ) from None
    torch.manual_seed(args.seed)
    print(
        f"backbone: {backbone.source}; {args.steps} steps at {content.shape[-1]}x{content.shape[-2]}",
        file=sys.stderr,
    )
    result = style_transfer(
        content,
        style,
        backbone,
        steps=args.steps,
        content_weight=args.content_weight,
        style_weight=args.style_weight,
        tv_weight=args.tv_weight,
    )
    first, last = result.history[0], result.history[-1]
    with Staging(args.out) as stage:
        stage.write(args.out, png_writer(result.image))
    print(
        f"wrote {args.out}: style loss {first['style']:.3g} -> {last['style']:.3g}, content loss "
        f"{last['content']:.3g}{replaced_note(replaced)}",
        file=sys.stderr,
    )
    return 0
