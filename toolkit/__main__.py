"""The command line: ``python -m toolkit train|sample|eval ...`` (``--help`` on each lists everything).

Bad input ends with exit status 2 and one line, ``error: <what is wrong and how to fix it>``. Ctrl-C or
SIGTERM: ``train`` finishes its step and checkpoints (exit 0); every other command stops at once, leaves no
partial output (``toolkit/outputs.py``) and ends with one line and exit status 128 + the signal's number.
"""

from __future__ import annotations

import signal

# A stop (Ctrl-C, or the dashboard's Stop a second after Start) can come while torch is still being imported:
# from the first line on it only asks for a clean stop (see cmd_train), never a traceback.
STOP_REQUESTS: list[int] = []


def _ask_to_stop(signum, frame) -> None:
    STOP_REQUESTS.append(signum)


if __name__ == "__main__":
    for _sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(_sig, _ask_to_stop)

import argparse
import contextlib
import math
import sys
import threading
from pathlib import Path

import torch

from .config import RunConfig, cli_fields, field_type, flag
from .data import DATASETS
from .distributed import leave
from .errors import ToolkitError
from .families import FAMILIES, MODELS, config_for, family_for
from .runs import Run


def on_off(text: str) -> bool:
    """A yes/no flag's value: on/off, true/false, yes/no or 1/0."""
    value = {
        "on": True,
        "true": True,
        "yes": True,
        "1": True,
        "off": False,
        "false": False,
        "no": False,
        "0": False,
    }
    if text.lower() not in value:
        raise argparse.ArgumentTypeError(f"expected on or off, got {text!r}")
    return value[text.lower()]


OVERWRITE_HELP = "replace files that already exist at --out (each is named); without it none is replaced"
RUN_DIR_HELP = "the run directory (written by train) whose networks are used"
DEVICE_HELP = "cpu (default), cuda, cuda:N or mps"


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (not the usage block plus the error)."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _model_in(argv: list[str]) -> str:
    """The --model a train command names (its flags depend on the model's family), else the default."""
    for i, arg in enumerate(argv):
        if arg == "--model" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--model="):
            return arg.split("=", 1)[1]
    if "--resume" in argv:  # the run's own model
        for i, arg in enumerate(argv):
            run_dir = (
                argv[i + 1]
                if arg == "--run-dir" and i + 1 < len(argv)
                else (arg.split("=", 1)[1] if arg.startswith("--run-dir=") else None)
            )
            if run_dir:
                with contextlib.suppress(ToolkitError, OSError):
                    return str(Run(run_dir).config().get("model"))
    return RunConfig().model


def _add_train(sub, model: str) -> None:
    """The train command's flags: the loop's and ``model``'s family's, one per config field, with the
    defaults and presets read from the config classes. Every flag defaults to "not given"
    (``argparse.SUPPRESS``), so the settings a user typed are exactly the ones in ``args``."""
    family = family_for(model) if model in MODELS else FAMILIES["gan"]
    models = "; ".join(f"{k}: {v}" for k, v in MODELS.items())
    datasets = "; ".join(f"{k}: {v}" for k, v in DATASETS.items())
    p = sub.add_parser(
        "train",
        help="train a GAN and write a run directory",
        argument_default=argparse.SUPPRESS,
        description=f"Train a GAN and write a run directory (config.json, metrics.jsonl, samples/, "
        f"checkpoints/last.pt). Flags shown are those of the {family.name} family "
        f"({', '.join(family.models)}); `train --model NAME --help` shows another's.",
        epilog=f"Models -- {models}. Datasets -- {datasets}; or the path of an image folder or .zip.",
    )
    p.add_argument("--model", help=f"one of: {', '.join(MODELS)} (default {RunConfig().model})")
    p.add_argument("--run-dir", required=True, help="where the run directory is written")
    p.add_argument(
        "--resume",
        action="store_true",
        default=False,
        help="continue the run in --run-dir from checkpoints/last.pt",
    )
    p.add_argument("--no-progress", action="store_true", default=False, help="no progress bar")
    p.add_argument(
        "--overwrite",
        action="store_true",
        default=False,
        help="replace the files of an earlier run in --run-dir (without it they are never deleted)",
    )
    defaults = family.Config()
    if hasattr(defaults, "lr_g") and hasattr(defaults, "lr_d"):
        p.add_argument("--lr", type=float, help="one learning rate for both G and D")
    for f in cli_fields(family.Config):
        default = getattr(defaults, f.name)
        presets = ", ".join(f"{m}: {v[f.name]}" for m, v in family.presets.items() if f.name in v)
        shown = "none" if default is None else default
        help_text = f"{f.metadata['help']} (default {shown}{'; ' + presets if presets else ''})"
        choices = f.metadata.get("choices")
        kind = field_type(f)
        if kind is bool:
            p.add_argument(flag(f.name), dest=f.name, type=on_off, metavar="on|off", help=help_text)
        else:
            p.add_argument(flag(f.name), dest=f.name, type=kind, choices=choices, help=help_text)


def _add_sample(sub) -> None:
    p = sub.add_parser(
        "sample",
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


def _add_eval(sub) -> None:
    from .metrics.extractors import EXTRACTORS

    p = sub.add_parser(
        "eval",
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


def _add_translate(sub) -> None:
    p = sub.add_parser(
        "translate",
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


def _add_upscale(sub) -> None:
    p = sub.add_parser(
        "upscale",
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


def _add_stylize(sub) -> None:
    from .backbones import BACKBONES

    p = sub.add_parser(
        "stylize",
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


def _add_report(sub) -> None:
    p = sub.add_parser(
        "report",
        help="write a run as one self-contained HTML file",
        description="Write a run's settings, curves, sample grids, scores and events into one HTML file that "
        "opens anywhere, offline included (plotly's JavaScript and the images are embedded).",
    )
    p.add_argument("--run-dir", required=True, help="the run directory to describe")
    p.add_argument("--out", required=True, help="the .html file to write (outside the run's own files)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it already exists")


def _add_augment_dataset(sub) -> None:
    from .augment_dataset import CANDIDATES, FILTERS

    p = sub.add_parser(
        "augment-dataset",
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


def _add_bench(sub) -> None:
    p = sub.add_parser(
        "bench",
        help="measure training speed against a plain reference loop, and more",
        description="Time the toolkit's DCGAN-32 step against the PyTorch DCGAN tutorial's loop (same nets, "
        "batch and images; alternating, median ratio), every family's step, sampling, peak memory, FID's "
        "computation against pytorch-fid and torch-fidelity, and quality after equal training time. "
        "Writes a JSON results file and prints a summary (see toolkit/benchmark.py). Run it on a quiet "
        "machine: other work running at the same time slows both sides unevenly.",
    )
    p.add_argument("--out", default=None, help="results file (default results/bench/<machine>.json)")
    p.add_argument("--quick", action="store_true", help="tiny sizes: checks the command, figures meaningless")
    p.add_argument("--lessons", action="store_true", help="also time every lesson in quick mode (slow)")
    p.add_argument(
        "--quality-seconds",
        type=float,
        default=None,
        help="training seconds per side for the FID-per-CPU-minute comparison (default 300; 0: skip)",
    )


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m toolkit", description="GAN lessons toolkit: train GANs and use them."
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    _add_train(sub, _model_in(sys.argv[1:] if argv is None else argv))
    _add_sample(sub)
    _add_eval(sub)
    _add_translate(sub)
    _add_upscale(sub)
    _add_stylize(sub)
    _add_report(sub)
    _add_augment_dataset(sub)
    _add_bench(sub)
    return parser


def cmd_train(args) -> int:
    early = {sig: signal.signal(sig, _ask_to_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _train(args)
    finally:
        for sig, handler in early.items():
            signal.signal(sig, handler)
        STOP_REQUESTS.clear()


def _train(args) -> int:
    from .jobs import PauseClock, Steering
    from .training import Trainer

    if not str(args.run_dir).strip():
        raise ToolkitError("--run-dir is empty; name the folder the run should be written to")
    given = {
        k: v
        for k, v in vars(args).items()
        if k not in ("command", "model", "run_dir", "resume", "no_progress", "lr", "overwrite")
    }
    model = vars(args).get("model")  # None unless typed
    if getattr(args, "lr", None) is not None:
        if not (math.isfinite(args.lr) and 0 < args.lr <= 1):
            raise ToolkitError(f"--lr must be a positive number no larger than 1, got {args.lr}")
        if "lr_g" in given or "lr_d" in given:
            raise ToolkitError("give either --lr or --lr-g/--lr-d, not both")
        given["lr_g"] = given["lr_d"] = args.lr
    run_dir = Path(args.run_dir)
    progress = not args.no_progress
    if args.resume:  # the run's own settings; Trainer.resume says which flags may change
        trainer = Trainer.resume(run_dir, progress=progress, **given, **({"model": model} if model else {}))
        say(trainer, f"resuming {run_dir} at step {trainer.step} of {trainer.config.steps}")
    else:
        # the model's paper settings (its preset) unless a flag the user typed sets them
        config = config_for(model or RunConfig().model, **given)
        if getattr(config, "eval_every", 0) and "eval_features" not in given:  # as eval picks them
            from .metrics.evaluate import default_extractor

            config.eval_features, why = default_extractor(config.data)
            print(f"--eval-every scores with {why}", file=sys.stderr)
        trainer = Trainer(config, run_dir=run_dir, progress=progress, overwrite=args.overwrite)

    say(trainer, startup_summary(trainer))
    trainer.callbacks.append(
        FirstEstimate(trainer)
    )  # after the first logging interval: steps/s and time left
    trainer.callbacks.append(Steering(run_dir))  # the dashboard can change learning rates mid-run
    if trainer.world.is_main:
        trainer.clock = PauseClock(run_dir)  # the dashboard's pauses are not training time
    if STOP_REQUESTS and not trainer.world.distributed:  # asked to stop while starting up: nothing lost
        trainer.writer.event("stopped", step=trainer.step, before_training=True)
        trainer.writer.close()
        print(f"stopped before training started; run directory: {run_dir}", file=sys.stderr)
        return 0

    def stop(signum, frame):  # Ctrl-C / kill: finish the current step, checkpoint, exit cleanly
        trainer.stop_requested = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        trainer.fit()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        leave(trainer.world)  # ranks: leave the process group (nothing for one process)
    state = "stopped" if trainer.stop_requested else "finished"
    say(trainer, f"{state} at step {trainer.step}; run directory: {run_dir}")
    return 0


def say(trainer, message: str) -> None:
    """Print a status line to stderr: once, from rank 0, when several processes train (torchrun)."""
    if trainer.world.is_main:
        print(message, file=sys.stderr)


def startup_summary(trainer) -> str:
    """One line on what is about to be trained: the data as loaded, and what the steps amount to."""
    d, c = trainer.data, trainer.config
    skipped = d.info.get("skipped")
    if d.kind in ("translation", "super-resolution"):
        shapes = f"{'x'.join(map(str, d.shape))} -> {'x'.join(map(str, d.shape_b))}"
        pairing = f"{len(d.a):,} pairs" if d.paired else f"{len(d.a):,} A and {len(d.b):,} B images"
        parts = [f"{pairing} of {shapes}"]
    else:
        parts = [
            f"{len(d):,} {'images' if d.kind == 'images' else 'points'} of {'x'.join(map(str, d.shape))}"
        ]
    if d.num_classes:
        parts.append(f"{d.num_classes} classes")
    if skipped:
        parts.append(f"{skipped} files skipped (hidden, or not images)")
    unreadable = d.info.get("unreadable") or []
    if unreadable:
        more = f" and {len(unreadable) - 5} more" if len(unreadable) > 5 else ""
        shown = ", ".join(unreadable[:5]) + more
        parts.append(f"{len(unreadable)} unreadable images skipped ({shown}; named in config.json)")
    epochs = c.steps * c.batch_size / len(d)
    return (
        f"data {d.name}: {', '.join(parts)}; {c.model} on {trainer.device}, {c.steps:,} steps of batch "
        f"{c.batch_size} = {epochs:.1f} epochs (from step {trainer.step})"
        + (
            f"; {trainer.world.size} processes: an effective batch of {c.batch_size * trainer.world.size}"
            if trainer.world.distributed
            else ""
        )
    )


class FirstEstimate:
    """Prints, once, after the first logging interval: how fast training goes and how long is left."""

    def __init__(self, trainer):
        self.step0, self.time0, self.done = trainer.step, trainer.elapsed, False

    def on_log(self, trainer, row) -> None:
        if self.done or row["time"] <= self.time0 or row["step"] <= self.step0:
            return
        self.done = True
        rate = (row["step"] - self.step0) / (row["time"] - self.time0)
        left = (trainer.config.steps - row["step"]) / rate
        when = f"{left:.0f} s" if left < 90 else f"{left / 60:.0f} min"
        say(trainer, f"{rate:.1f} steps/s: about {when} left to step {trainer.config.steps:,}")

    def on_sample(self, trainer, step, images) -> None: ...

    def on_end(self, trainer) -> None: ...


def generator_run_or_refuse(run_dir: str, command: str) -> None:
    """A one-line error when ``run_dir`` holds a translator or an upscaler: they have no generator from noise,
    and the command to use is translate or upscale."""
    try:
        config = Run(run_dir).config()
    except ToolkitError:
        return  # the command's own loading says what is wrong
    use = {"translation": "translate", "super-resolution": "upscale"}.get(config.get("kind"))
    if use:
        raise ToolkitError(
            f"{run_dir} is a {config.get('model')} run, which turns images into images; {command} needs a "
            f"run that generates from noise. Use: python -m toolkit {use} --run-dir {run_dir} --input IMAGES "
            "--out FOLDER"
        )


def cmd_sample(args) -> int:
    from .data.base import check_memory
    from .generate import class_index, generate, load_generator, sample_paths, write_samples
    from .models import is_conditional
    from .models.conditional import balanced_labels
    from .outputs import check_outputs, replaced_note

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


def cmd_eval(args) -> int:
    from .generate import load_generator
    from .metrics.evaluate import default_extractor, evaluate_generator, feature_fit_warning, format_scores
    from .runs import record_evaluation
    from .runtime import pick_device

    if args.n < 2 or args.n_real < 2:
        raise ToolkitError("--n and --n-real must be at least 2")
    from .data import DATASETS

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


def cmd_translate(args) -> int:
    from .outputs import replaced_note
    from .runtime import pick_device
    from .translate import translate_images

    device = pick_device(args.device)
    written, replaced = translate_images(
        args.run_dir, args.input, args.out, args.direction, args.resize, device, args.overwrite
    )
    print(
        f"wrote {len(written)} translated image(s) ({args.direction}) to {args.out}{replaced_note(replaced)}",
        file=sys.stderr,
    )
    return 0


def cmd_upscale(args) -> int:
    from .outputs import replaced_note
    from .runtime import pick_device
    from .upscale import upscale_images

    written, replaced = upscale_images(
        args.run_dir, args.input, args.out, args.shrink, args.tile, pick_device(args.device), args.overwrite
    )
    print(f"wrote {len(written)} upscaled image(s) to {args.out}{replaced_note(replaced)}", file=sys.stderr)
    return 0


def cmd_stylize(args) -> int:
    import torch

    from .backbones import best_backbone, load_backbone
    from .outputs import Staging, check_outputs, replaced_note
    from .runtime import pick_device
    from .stylize import png_writer, read_image, style_transfer

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


def cmd_report(args) -> int:
    from .report import write_report

    if not str(args.out).endswith((".html", ".htm")):
        raise ToolkitError(f"--out {args.out} should end in .html")
    from .outputs import replaced_note

    try:
        out, replaced = write_report(args.run_dir, args.out, args.overwrite)
    except OSError as exc:
        raise ToolkitError(f"cannot write {args.out} ({exc.strerror or exc}); choose another --out") from None
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB){replaced_note(replaced)}", file=sys.stderr)
    return 0


def cmd_augment_dataset(args) -> int:
    from .augment_dataset import CANDIDATES, augment_dataset
    from .runtime import pick_device

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


def cmd_bench(args) -> int:
    from .benchmark import default_out, run_benchmark, summary, write_result

    if args.quality_seconds is not None and args.quality_seconds < 0:
        raise ToolkitError(f"--quality-seconds must be >= 0 (0 skips it), got {args.quality_seconds}")
    out = Path(args.out) if args.out else default_out()
    result = run_benchmark(args.quick, args.lessons, args.quality_seconds)
    print(summary(result))
    print(f"results: {write_result(result, out)}")
    return 0


def _stop_now(signum, frame) -> None:
    from .outputs import STOPS, Stopped

    STOPS.append(signum)  # read between images and steps (stop_point), should the exception be swallowed
    raise Stopped(signum)


@contextlib.contextmanager
def stop_on_signal():
    """Ctrl-C and SIGTERM raise ``Stopped`` wherever the command is (between two images or steps: the
    work in hand is dropped, and ``toolkit/outputs.py`` removes what it had written); one that came while the
    toolkit was starting up stops it before any work. Only the main thread can take signals."""
    from .outputs import STOPS, Stopped

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _stop_now) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if STOP_REQUESTS:
            raise Stopped(STOP_REQUESTS[-1])
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        STOP_REQUESTS.clear()
        STOPS.clear()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(argv)
    if not (sys.argv[1:] if argv is None else argv):  # `python -m toolkit` alone: what it can do
        print(parser.format_help(), file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    commands = {
        "train": cmd_train,
        "sample": cmd_sample,
        "eval": cmd_eval,
        "translate": cmd_translate,
        "upscale": cmd_upscale,
        "stylize": cmd_stylize,
        "report": cmd_report,
        "augment-dataset": cmd_augment_dataset,
        "bench": cmd_bench,
    }
    try:
        if args.command == "train":  # its own stop: the step finishes, a checkpoint is written
            return cmd_train(args)
        with stop_on_signal():
            return commands[args.command](args)
    except ToolkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        print(
            f"stopped by {name}: {args.command} did not finish, and left no partial output", file=sys.stderr
        )
        return 128 + signum


if __name__ == "__main__":
    sys.exit(main())
