"""``python -m toolkit directions``: find the direction in a run's latent space along which an attribute
grows (InterFaceGAN, ``toolkit/directions.py``), store it in the run directory (``directions/NAME.pt``) and
print the manipulation table: how much every attribute changes per unit step along each stored direction."""

from __future__ import annotations

import contextlib
import sys

from ..errors import ToolkitError
from .arguments import DEVICE_HELP, RUN_DIR_HELP, generator_run_or_refuse

NAME = "directions"


def add_parser(sub, argv: list[str]) -> None:
    from ..directions import COMPUTED

    p = sub.add_parser(
        NAME,
        help="find and store the latent direction of an attribute (a class, brightness, area)",
        description="Sample latents, score G's images for the attribute, fit a linear boundary "
        "(InterFaceGAN) and store its normal in the run directory (directions/NAME.pt), for `edit`. "
        "Prints how much each attribute changes per unit step along every stored direction.",
        epilog="Attributes -- " + "; ".join(f"{k}: {v}" for k, v in COMPUTED.items()) + "; or a class of the "
        "run's data (Fashion-MNIST runs, scored by the toolkit's classifier; unconditional models only)",
    )
    p.add_argument("--run-dir", required=True, help=RUN_DIR_HELP)
    p.add_argument(
        "--attribute",
        required=True,
        help="a class of the run's data (name or index) or a computed attribute: brightness, area",
    )
    p.add_argument(
        "--n", type=int, default=2000, help="latents sampled and scored to find it (default %(default)s)"
    )
    p.add_argument(
        "--share",
        type=float,
        default=0.3,
        help="the top and bottom share of the scores used as positives and negatives (default %(default)s)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the sampled latents (default %(default)s)")
    p.add_argument("--device", default="cpu", help=DEVICE_HELP)


def stored_directions(run_dir) -> list[str]:
    """The attribute names of the directions stored in the run directory (their file stems)."""
    from pathlib import Path

    from ..runs import DIRECTIONS

    folder = Path(run_dir) / DIRECTIONS
    return sorted(p.stem for p in folder.glob("*.pt")) if folder.is_dir() else []


def run(args) -> int:
    import torch

    from ..directions import (
        COMPUTED,
        attribute,
        fit_direction,
        load_direction,
        manipulation_table,
        sample_and_score,
        save_direction,
    )
    from ..generate import load_generator
    from ..outputs import stop_point
    from .project import needs_z_input

    if args.n < 10:
        raise ToolkitError(f"--n must be at least 10 (a few thousand is usual), got {args.n}")
    if not 0 < args.share <= 0.5:
        raise ToolkitError(f"--share must be in (0, 0.5], got {args.share}")
    generator_run_or_refuse(args.run_dir, NAME)
    G, config = load_generator(args.run_dir, args.device)
    if config.get("kind") != "images":
        raise ToolkitError(f"{args.run_dir} generates 2-D points, not images; it has no image attributes")
    needs_z_input(G, config, NAME)
    class_names = config.get("class_names")
    score = attribute(args.attribute, class_names, G)  # one line for a name that is neither, before any work
    name = args.attribute.strip()
    if name.lower() in COMPUTED:
        name = name.lower()
    elif class_names:
        from ..generate import class_index

        name = class_names[class_index(name, class_names)]
    stop_point()
    print(f"scoring {args.n} samples for {name!r}", file=sys.stderr)
    z, scores = sample_and_score(G, score, args.n, seed=args.seed)
    stop_point()
    direction = fit_direction(z, scores, attribute=name, share=args.share, seed=args.seed)
    path = save_direction(args.run_dir, direction)
    print(
        f"stored the direction for {name!r} in {path} (boundary accuracy on held-out samples "
        f"{direction.accuracy:.0%}, from {args.n} samples)"
    )
    # the manipulation table: every stored direction, its own attribute and the computed ones as columns
    columns = {name: score, **{k: attribute(k) for k in COMPUTED if k != name}}
    rows = {}
    for stem in stored_directions(args.run_dir):
        try:
            stored = load_direction(args.run_dir, stem, z_dim=G.z_dim)
        except ToolkitError:
            continue  # one from another run or a damaged file: not in the table
        rows[stored.attribute] = stored.normal
        if stored.attribute not in columns:
            with contextlib.suppress(ToolkitError):  # an attribute this run cannot score: a row, no column
                columns[stored.attribute] = attribute(stored.attribute, class_names, G)
    probe = torch.randn(min(args.n, 500), G.z_dim, generator=torch.Generator().manual_seed(args.seed + 1))
    table = manipulation_table(G, rows, columns, probe, strength=1.0)
    with torch.no_grad():  # the attribute's own change per unit step, in its own units
        before = score(G(probe.to(next(G.parameters()).device))).float()
        after = score(G((probe + direction.normal).to(before.device))).float()
    print(
        f"one unit step along {name!r} changes it by {float((after - before).mean()):+.4g} on average "
        f"(its spread over samples: {float(before.std()):.4g})"
    )
    print("change per unit step, in standard deviations of each attribute over the run's samples:")
    width = max(len(r) for r in [*rows, "direction"]) + 2
    print("direction".ljust(width) + "".join(c[:12].rjust(14) for c in columns))
    for row, changes in table.items():
        print(row.ljust(width) + "".join(f"{changes[c]:+14.3f}" for c in columns))
    return 0
