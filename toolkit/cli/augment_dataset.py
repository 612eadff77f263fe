"""``python -m toolkit augment-dataset``: write generated images of chosen classes into class
sub-folders."""

from __future__ import annotations

import sys

from ..errors import ToolkitError
from .arguments import DEVICE_HELP

NAME = "augment-dataset"


def add_parser(sub, argv: list[str]) -> None:
    from ..augment_dataset import CANDIDATES, FILTERS

    p = sub.add_parser(
        NAME,
        help="write generated images of chosen classes into class sub-folders",
        description="Write --per-class images of each chosen class from a trained conditional run (cgan, "
        "acgan) into --out/<class>/gen_*.png, a folder the toolkit (and any folder-of-classes loader) reads "
        "back as labelled data. --filter draws --candidates times as many and keeps the best by the "
        "run's D or by a classifier trained on the run's data. The folder appears whole or not at all.",
    )
    p.add_argument("--run-dir", required=True, help="a cgan or acgan run directory")
    p.add_argument(
        "--classes", required=True, help="class names or indices, comma-separated: Dress,Coat or 3,4"
    )
    p.add_argument("--per-class", type=int, required=True, help="images written per class")
    p.add_argument("--out", required=True, help="a new (or empty) folder")
    p.add_argument(
        "--filter", default="none", choices=FILTERS, help="keep the best candidates (default none)"
    )
    p.add_argument(
        "--candidates",
        type=int,
        default=None,
        help=f"with --filter: draw this many per kept image (default {CANDIDATES})",
    )
    p.add_argument("--filter-epochs", type=int, default=3, help="--filter classifier: its training epochs")
    p.add_argument("--seed", type=int, default=0, help="seed of the latent vectors (default %(default)s)")
    p.add_argument("--device", default="cpu", help=DEVICE_HELP)


def run(args) -> int:
    from ..augment_dataset import CANDIDATES, augment_dataset
    from ..runtime import pick_device

    if args.candidates is not None and args.filter == "none":
        raise ToolkitError(
            "--candidates counts only with a filter: add --filter discriminator or classifier, or leave "
            "--candidates out"
        )
    counts = augment_dataset(
        args.run_dir,
        args.classes,
        args.per_class,
        args.out,
        args.filter,
        CANDIDATES if args.candidates is None else args.candidates,
        args.seed,
        pick_device(args.device),
        classifier_epochs=args.filter_epochs,
    )
    what = ", ".join(f"{n} {c}" for c, n in counts.items())
    print(f"wrote {what} generated image(s) to {args.out} (filter {args.filter})", file=sys.stderr)
    return 0
