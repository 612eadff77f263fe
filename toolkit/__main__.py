"""The command line: ``python -m toolkit train|sample|eval ...`` (``--help`` on each lists everything).

Bad input ends with exit status 2 and one line, ``error: <what is wrong and how to fix it>``.
"""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

import torch

from .augment import AUGMENTS
from .data import DATASETS
from .errors import ToolkitError
from .losses import LOSSES
from .models import MODELS
from .train import TrainConfig

DEFAULTS = TrainConfig()


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (not the usage block plus the error)."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _add_train(sub) -> None:
    models = "; ".join(f"{k}: {v}" for k, v in MODELS.items())
    datasets = "; ".join(f"{k}: {v}" for k, v in DATASETS.items())
    p = sub.add_parser("train", help="train a GAN and write a run directory",
                       description="Train a GAN and write a run directory (config.json, metrics.jsonl, samples/, "
                                   "checkpoints/last.pt).",
                       epilog=f"Models -- {models}. Datasets -- {datasets}; or the path of an image folder or .zip.")
    p.add_argument("--model", default=DEFAULTS.model, help=f"one of: {', '.join(MODELS)} (default %(default)s)")
    p.add_argument("--data", default=DEFAULTS.data, help=f"one of: {', '.join(DATASETS)}, or a folder/.zip of images")
    p.add_argument("--steps", type=int, default=None,
                   help=f"total training steps (default {DEFAULTS.steps}; with --resume, the run's own)")
    p.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size)
    p.add_argument("--seed", type=int, default=DEFAULTS.seed)
    p.add_argument("--run-dir", required=True, help="where the run directory is written")
    p.add_argument("--resume", action="store_true", help="continue the run in --run-dir from checkpoints/last.pt")
    p.add_argument("--device", default=DEFAULTS.device, help="auto, cpu, cuda or mps (default auto)")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads for torch (default: $TOOLKIT_THREADS, $OMP_NUM_THREADS, else all cores up to 8)")
    p.add_argument("--lr", type=float, default=None, help="one learning rate for both G and D")
    p.add_argument("--lr-g", type=float, default=None, help=f"generator learning rate (default {DEFAULTS.lr_g}; wgan/wgan-gp presets differ)")
    p.add_argument("--lr-d", type=float, default=None, help=f"discriminator learning rate (default {DEFAULTS.lr_d}; wgan/wgan-gp presets differ)")
    p.add_argument("--beta1", type=float, default=None, help=f"Adam beta1 (default {DEFAULTS.beta1})")
    p.add_argument("--beta2", type=float, default=None, help=f"Adam beta2 (default {DEFAULTS.beta2})")
    p.add_argument("--loss", default=None, choices=list(LOSSES), help=f"adversarial loss (default {DEFAULTS.loss})")
    p.add_argument("--n-critic", type=int, default=None, help="D (critic) steps per G step (default 1; wgan/wgan-gp 5)")
    p.add_argument("--gp-weight", type=float, default=None, help="WGAN-GP gradient penalty lambda (wgan-gp: 10; 0 = off)")
    p.add_argument("--r1-weight", type=float, default=None, help="R1 penalty gamma on real images (0 = off)")
    p.add_argument("--clip", type=float, default=None, help="WGAN weight clipping bound (wgan: 0.01; 0 = off)")
    p.add_argument("--g-condition", default=None, choices=["cbn", "concat"], help="cgan generator conditioning")
    p.add_argument("--d-condition", default=None, choices=["projection", "concat"], help="cgan discriminator conditioning")
    p.add_argument("--augment", default=None, choices=list(AUGMENTS),
                   help="what D sees: " + "; ".join(f"{k}: {v}" for k, v in AUGMENTS.items()))
    p.add_argument("--ada-target", type=float, default=None, help=f"target r_t for ADA's p / Diffusion-GAN's T (default {DEFAULTS.ada_target})")
    p.add_argument("--ada-kimg", type=float, default=None, help=f"thousand images for p to go 0 -> 1 (default {DEFAULTS.ada_kimg:g})")
    p.add_argument("--diffusion-t-max", type=int, default=None, help=f"Diffusion-GAN's largest T (default {DEFAULTS.diffusion_t_max})")
    p.add_argument("--limit", type=int, default=None, help="train on a seeded, class-balanced subset of N images")
    p.add_argument("--resolution", type=int, default=None, help="image size (default: the dataset's, 32 for Fashion-MNIST)")
    p.add_argument("--z-dim", type=int, default=DEFAULTS.z_dim)
    p.add_argument("--width", type=int, default=DEFAULTS.width, help="model width (default %(default)s)")
    p.add_argument("--ema", type=float, default=DEFAULTS.ema, help="EMA decay of the sampling generator; 0 = off")
    p.add_argument("--log-every", type=int, default=DEFAULTS.log_every)
    p.add_argument("--sample-every", type=int, default=DEFAULTS.sample_every)
    p.add_argument("--checkpoint-every", type=int, default=DEFAULTS.checkpoint_every)
    p.add_argument("--eval-every", type=int, default=0, help="log fid/kid every N steps (0: never; a multiple of --log-every)")
    p.add_argument("--eval-n", type=int, default=DEFAULTS.eval_n, help="generated samples per evaluation")
    p.add_argument("--eval-features", default=DEFAULTS.eval_features, help="feature extractor for --eval-every")
    p.add_argument("--gap-every", type=int, default=0,
                   help="log D's overfitting gap (mean output on training vs held-out reals) every N steps")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_sample(sub) -> None:
    p = sub.add_parser("sample", help="write images from a run's generator",
                       description="Write N images from a run's generator (EMA weights when present).")
    p.add_argument("--run-dir", required=True)
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--out", required=True, help="a folder for PNGs, or a file ending in .npz")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--class", dest="cls", default=None, help="class index or name (conditional models)")
    p.add_argument("--device", default="cpu")


def _add_eval(sub) -> None:
    from .metrics.extractors import EXTRACTORS

    p = sub.add_parser("eval", help="score a run's generator (FID, KID, precision/recall, density/coverage)",
                       description="Score a run's generator against real data and record the result in "
                                   "RUN_DIR/evaluations.jsonl. Real features are cached on disk.",
                       epilog="Extractors -- " + "; ".join(f"{k}: {v}" for k, v in EXTRACTORS.items()))
    p.add_argument("--run-dir", required=True)
    p.add_argument("--extractor", default="fmnist-cnn", help=f"one of: {', '.join(EXTRACTORS)} (default %(default)s)")
    p.add_argument("--n", type=int, default=5000, help="generated samples (default %(default)s)")
    p.add_argument("--n-real", type=int, default=10000, help="real samples (default %(default)s)")
    p.add_argument("--weights", default=None, help="weight file for the extractor (e.g. the InceptionV3 .pth)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m toolkit", description="GAN lessons toolkit: train GANs and use them.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    _add_train(sub)
    _add_sample(sub)
    _add_eval(sub)
    return parser


def cmd_train(args) -> int:
    from .train import Trainer

    if args.lr is not None and (args.lr_g is not None or args.lr_d is not None):
        raise ToolkitError("give either --lr or --lr-g/--lr-d, not both")
    run_dir = Path(args.run_dir)
    progress = not args.no_progress
    if args.resume:
        # settings come from the run's config.json; only the length and where it runs may change
        trainer = Trainer.resume(run_dir, steps=args.steps, progress=progress, device=args.device, threads=args.threads)
        print(f"resuming {run_dir} at step {trainer.step} of {trainer.config.steps}", file=sys.stderr)
    else:
        # the model's paper settings (TrainConfig.for_model) unless an option sets them explicitly
        options = ("data", "steps", "batch_size", "beta1", "beta2", "loss", "n_critic", "gp_weight", "r1_weight",
                   "clip", "g_condition", "d_condition", "augment", "ada_target", "ada_kimg", "diffusion_t_max",
                   "z_dim", "width", "ema", "seed", "limit", "resolution", "log_every", "sample_every",
                   "checkpoint_every", "device", "threads", "eval_every", "eval_n", "eval_features", "gap_every")
        given = {k: getattr(args, k) for k in options if getattr(args, k) is not None}
        if args.lr is not None:
            given["lr_g"] = given["lr_d"] = args.lr
        for k in ("lr_g", "lr_d"):
            if getattr(args, k) is not None:
                given[k] = getattr(args, k)
        config = TrainConfig.for_model(args.model, **given)
        trainer = Trainer(config, run_dir=run_dir, progress=progress)  # validates config and run_dir

    from .jobs import Steering

    trainer.callbacks.append(Steering(run_dir))  # the dashboard can change learning rates mid-run

    def stop(signum, frame):  # Ctrl-C / kill: finish the current step, checkpoint, exit cleanly
        trainer.stop_requested = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        trainer.fit()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    state = "stopped" if trainer.stop_requested else "finished"
    print(f"{state} at step {trainer.step}; run directory: {run_dir}", file=sys.stderr)
    return 0


def cmd_sample(args) -> int:
    from .generate import generate, load_generator, write_samples

    if args.n < 1:
        raise ToolkitError(f"--n must be >= 1, got {args.n}")
    G, config = load_generator(args.run_dir, args.device)
    labels = None
    if args.cls is not None:
        from .generate import class_index
        from .models import is_conditional

        if not is_conditional(G):
            raise ToolkitError(f"--class needs a conditional model (cgan, acgan); {args.run_dir} is a {config['model']}")
        labels = torch.full((args.n,), class_index(args.cls, config["class_names"]))
    images = generate(G, args.n, config["z_dim"], seed=args.seed, labels=labels)
    if config["kind"] != "images":
        raise ToolkitError(f"{args.run_dir} generates 2-D points, not images; use toolkit.generate in Python")
    out = write_samples(images, args.out, labels)
    what = "" if labels is None else f" of class {config['class_names'][int(labels[0])]}"
    print(f"wrote {args.n} images{what} from step {config['checkpoint_step']} to {out}", file=sys.stderr)
    return 0


def cmd_eval(args) -> int:
    import json
    import time

    from .generate import load_generator
    from .metrics.evaluate import evaluate_generator, format_scores
    from .runtime import pick_device

    if args.n < 2 or args.n_real < 2:
        raise ToolkitError("--n and --n-real must be at least 2")
    device = pick_device(args.device)
    G, config = load_generator(args.run_dir, device)
    if config["kind"] != "images":
        raise ToolkitError(f"{args.run_dir} generates 2-D points; score it with toolkit.data.mode_quality")
    scores = evaluate_generator(G, config["z_dim"], config["data"], args.extractor, args.n, args.n_real, args.seed,
                                config.get("resolution"), device=device, weights=args.weights)
    step = config["checkpoint_step"]
    print(f"step {step}: {format_scores(scores)}")
    with open(Path(args.run_dir) / "evaluations.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"step": step, "wall_time": time.time(), **scores}) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"train": cmd_train, "sample": cmd_sample, "eval": cmd_eval}[args.command](args)
    except ToolkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
