"""``python -m toolkit train``: train a model and write a run directory. Its flags are built from the chosen
model's family's config (``train --model NAME --help`` lists them). Ctrl-C or SIGTERM: the step in hand
finishes, a checkpoint is written, exit status 0."""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
import sys
from pathlib import Path

from ..config import RunConfig, cli_fields, field_type, flag
from ..data import DATASETS
from ..distributed import leave
from ..errors import ToolkitError
from ..families import FAMILIES, MODELS, config_for, family_for
from ..runs import Run
from ..runtime import speed_choice
from .arguments import on_off
from .stopping import STOP_REQUESTS, ask_to_stop

NAME = "train"


def model_in(argv: list[str]) -> str:
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


def add_parser(sub, argv: list[str]) -> None:
    """The train command's flags: the loop's and the family's of the model ``argv`` names, one per config
    field, with the defaults and presets read from the config classes. Every flag defaults to "not given"
    (``argparse.SUPPRESS``), so the settings a user typed are exactly the ones in ``args``."""
    model = model_in(argv)
    family = family_for(model) if model in MODELS else FAMILIES["gan"]
    models = "; ".join(f"{k}: {v}" for k, v in MODELS.items())
    datasets = "; ".join(f"{k}: {v}" for k, v in DATASETS.items())
    p = sub.add_parser(
        NAME,
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


def run(args) -> int:
    early = {sig: signal.signal(sig, ask_to_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _train(args)
    finally:
        for sig, handler in early.items():
            signal.signal(sig, handler)
        STOP_REQUESTS.clear()


def _train(args) -> int:
    from ..jobs import PauseClock, Steering
    from ..training import Trainer

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
            from ..metrics.evaluate import default_extractor

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
    # the precision and memory format in force: chosen now (auto says why) or, on resume, as the run recorded
    if trainer.step:
        speed = f"{trainer.precision}, {trainer.memory_format}, as the run recorded"
    else:
        speed = speed_choice(c.precision, c.memory_format, trainer.device)
    return (
        f"data {d.name}: {', '.join(parts)}; {c.model} on {trainer.device} ({speed}), "
        f"{c.steps:,} steps of batch {c.batch_size} = {epochs:.1f} epochs (from step {trainer.step})"
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
