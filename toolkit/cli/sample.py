"""``python -m toolkit sample``: write images from a run's generator."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import torch

from ..errors import ToolkitError
from .arguments import DEVICE_HELP, OVERWRITE_HELP, RUN_DIR_HELP, generator_run_or_refuse

NAME = "sample"


def add_parser(sub, argv: list[str]) -> None:
    p = sub.add_parser(
        NAME,
        help="write images from a run's generator",
        description="Write N images from a run's generator (EMA weights when present).",
    )
    p.add_argument("--run-dir", required=True, help=RUN_DIR_HELP)
    p.add_argument("--n", type=int, default=64, help="how many images (default %(default)s)")
    p.add_argument(
        "--out",
        required=True,
        help="a new (or empty) folder for PNGs, a file ending in .npz (uint8 array), or one ending in .png "
        "(one grid)",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the latent vectors: the same seed, the same images"
    )
    p.add_argument("--class", dest="cls", default=None, help="class index or name (conditional models)")
    p.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    p.add_argument(
        "--truncation",
        type=float,
        default=None,
        metavar="PSI",
        help="stylegan: truncation in W, w_avg + PSI * (w - w_avg); 1 = none, 0 = the average image",
    )
    p.add_argument("--device", default="cpu", help=DEVICE_HELP)


def run(args) -> int:
    from ..data.base import check_memory
    from ..generate import class_index, generate, load_generator, sample_paths, write_samples
    from ..models import is_conditional
    from ..models.conditional import balanced_labels
    from ..outputs import check_outputs, replaced_note

    if args.n < 1:
        raise ToolkitError(f"--n must be >= 1, got {args.n}")
    generator_run_or_refuse(args.run_dir, "sample")
    G, config = load_generator(args.run_dir, args.device)
    if config["kind"] != "images":
        raise ToolkitError(f"{args.run_dir} generates 2-D points, not images; use toolkit.generate in Python")
    if args.truncation is not None:
        if not hasattr(G, "truncation_psi"):
            raise ToolkitError(f"--truncation needs --model stylegan; {args.run_dir} is a {config['model']}")
        if not math.isfinite(args.truncation):
            raise ToolkitError(f"--truncation must be a finite number (1: none), got {args.truncation}")
        G.truncation_psi = args.truncation
    check_memory(args.n, tuple(config["sample_shape"]), f"--n {args.n}", "use a smaller --n")
    labels = None
    if args.cls is not None:
        if not is_conditional(G):
            raise ToolkitError(
                f"--class needs a conditional model (cgan, acgan); {args.run_dir} is a {config['model']}"
            )
        labels = torch.full((args.n,), class_index(args.cls, config["class_names"]))
    elif is_conditional(G):  # the generator's own default, made explicit so files can be named by class
        labels = balanced_labels(args.n, G.num_classes)
    paths = sample_paths(args.out, args.n, labels, config.get("class_names"))
    folder = paths[0] != Path(args.out).expanduser()
    replaced = check_outputs(  # before any work
        args.out, [(p, "") for p in paths], overwrite=args.overwrite, folder=folder, new_folder=folder
    )
    kept = 0
    if folder and Path(args.out).is_dir():  # with --overwrite: the files already there that stay
        kept = sum(1 for p in Path(args.out).iterdir() if p not in set(paths))
    images = generate(G, args.n, config["z_dim"], seed=args.seed, labels=labels)
    out = write_samples(images, args.out, labels, config.get("class_names"), overwrite=args.overwrite)
    what = "" if args.cls is None else f" of class {config['class_names'][int(labels[0])]}"
    if args.cls is None and labels is not None:
        what = f" of {len(set(labels.tolist()))} classes (named in the files)"
    note = replaced_note(replaced) + (f"; {kept} other file(s) already in {out} were kept" if kept else "")
    print(
        f"wrote {args.n} images{what} from step {config['checkpoint_step']} to {out}{note}", file=sys.stderr
    )
    return 0
