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


def evaluate_run(
    run_dir: str | Path,
    extractor: str | None = None,
    n: int = 5000,
    n_real: int = 10000,
    seed: int = 0,
    device: str = "cpu",
    weights: str | None = None,
    say=lambda line: print(line, file=sys.stderr),
) -> dict:
    """What ``eval`` does (the dashboard's Evaluate button too): score the run's generator, record the scores
    in RUN_DIR/evaluations.jsonl and return the recorded row; ``say`` gets the notes (which features and
    why, a warning about their fit, the class proportions drawn)."""
    from ..data import DATASETS
    from ..generate import load_generator
    from ..metrics.evaluate import default_extractor, evaluate_generator, feature_fit_warning
    from ..runs import record_evaluation
    from ..runtime import pick_device

    if n < 2 or n_real < 2:
        raise ToolkitError("--n and --n-real must be at least 2")
    device = pick_device(device)
    generator_run_or_refuse(str(run_dir), "eval")
    G, config = load_generator(run_dir, device)
    if config["kind"] != "images":
        raise ToolkitError(f"{run_dir} generates 2-D points; score it with toolkit.data.mode_quality")
    data = str(config["data"])
    if data not in DATASETS and not Path(data).expanduser().exists():
        raise ToolkitError(
            f"the run's data {data} (named in {Path(run_dir) / 'config.json'}) is not there any more: "
            "put it back, or score against the same images elsewhere with toolkit.metrics in Python"
        )
    if config.get("data_passed_in"):  # trained on data given in Python (a subset), scored against all of it
        from ..data.fingerprint import describe_passed_in_data

        say(
            f"note: {run_dir} trained on {describe_passed_in_data(config)}, not on all of {data}; its scores "
            f"compare it with {data}'s real images"
        )
    if extractor is None:
        extractor, why = default_extractor(config["data"])
        say(f"features: {why}")
    warning = feature_fit_warning(extractor, config["data"])
    if warning:
        say(f"warning: {warning}")
    scores = evaluate_generator(
        G,
        config["z_dim"],
        config["data"],
        extractor,
        n,
        n_real,
        seed,
        config.get("resolution"),
        device=device,
        weights=weights,
    )
    if "class_shares" in scores:
        shares = ", ".join(f"{c} {p:.0%}" for c, p in zip(config["class_names"], scores["class_shares"]))
        say(f"classes drawn in the real images' proportions: {shares}")
    # the same evaluation again replaces its row
    return record_evaluation(run_dir, config["checkpoint_step"], seed, scores)


def run(args) -> int:
    from ..metrics.evaluate import format_scores

    row = evaluate_run(
        args.run_dir, args.extractor, args.n, args.n_real, args.seed, args.device, args.weights
    )
    print(f"step {row['step']}: {format_scores(row)}")
    return 0
