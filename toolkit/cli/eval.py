"""``python -m toolkit eval``: score a run's generator and record the scores in the run directory."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import ToolkitError
from .arguments import DEVICE_HELP, RUN_DIR_HELP, generator_run_or_refuse

NAME = "eval"


def add_parser(sub, argv: list[str]) -> None:
    from ..metrics.extractors import EXTRACTORS

    p = sub.add_parser(
        NAME,
        help="score a run's generator (FID, KID, precision/recall, density/coverage)",
        description="Score a run's generator against real data and record the result in "
        "RUN_DIR/evaluations.jsonl. Real features are cached on disk.",
        epilog="Extractors -- " + "; ".join(f"{k}: {v}" for k, v in EXTRACTORS.items()),
    )
    p.add_argument("--run-dir", required=True, help=RUN_DIR_HELP)
    p.add_argument(
        "--extractor",
        default=None,
        help=f"one of: {', '.join(EXTRACTORS)} (default: fmnist-cnn for Fashion-MNIST; for other data "
        "inception when its weights are on this machine, else pixels8)",
    )
    p.add_argument("--n", type=int, default=5000, help="generated samples (default %(default)s)")
    p.add_argument("--n-real", type=int, default=10000, help="real samples (default %(default)s)")
    p.add_argument(
        "--weights", default=None, help="weight file for the extractor (e.g. the InceptionV3 .pth)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the generated and the real samples drawn")
    p.add_argument("--device", default="cpu", help=DEVICE_HELP)


def run(args) -> int:
    from ..generate import load_generator
    from ..metrics.evaluate import default_extractor, evaluate_generator, feature_fit_warning, format_scores
    from ..runs import record_evaluation
    from ..runtime import pick_device

    if args.n < 2 or args.n_real < 2:
        raise ToolkitError("--n and --n-real must be at least 2")
    from ..data import DATASETS

    device = pick_device(args.device)
    generator_run_or_refuse(args.run_dir, "eval")
    G, config = load_generator(args.run_dir, device)
    if config["kind"] != "images":
        raise ToolkitError(f"{args.run_dir} generates 2-D points; score it with toolkit.data.mode_quality")
    data = str(config["data"])
    if data not in DATASETS and not Path(data).expanduser().exists():
        raise ToolkitError(
            f"the run's data {data} (named in {Path(args.run_dir) / 'config.json'}) is not there any more: "
            "put it back, or score against the same images elsewhere with toolkit.metrics in Python"
        )
    extractor = args.extractor
    if extractor is None:
        extractor, why = default_extractor(config["data"])
        print(f"features: {why}", file=sys.stderr)
    warning = feature_fit_warning(extractor, config["data"])
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    scores = evaluate_generator(
        G,
        config["z_dim"],
        config["data"],
        extractor,
        args.n,
        args.n_real,
        args.seed,
        config.get("resolution"),
        device=device,
        weights=args.weights,
    )
    step = config["checkpoint_step"]
    print(f"step {step}: {format_scores(scores)}")
    if "class_shares" in scores:
        shares = ", ".join(f"{c} {p:.0%}" for c, p in zip(config["class_names"], scores["class_shares"]))
        print(f"classes drawn in the real images' proportions: {shares}", file=sys.stderr)
    record_evaluation(args.run_dir, step, args.seed, scores)  # the same evaluation again replaces its row
    return 0
