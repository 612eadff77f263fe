"""Resuming a run: putting a checkpoint back into a trainer, and re-creating a run from its directory.

What a checkpoint holds (format 2: every net, EMA copy and optimizer by name, the family's own state, the
data position, the RNG states, the half-finished logging interval, the step, the elapsed time and
config.json's content) is defined, written, read and migrated by ``toolkit/runs.py``.
"""

from __future__ import annotations

import torch

from ..config import RESUMABLE, flag
from ..data.fingerprint import check_same_data
from ..errors import ToolkitError
from ..families import family_for
from ..runs import LAST_CHECKPOINT, Run, load_checkpoint
from ..runtime import pick_device


def restore_checkpoint_state(trainer, state: dict) -> None:
    family = trainer.family
    try:
        for name, net in family.nets.items():
            net.load_state_dict(state["nets"][name])
        for name, ema in trainer.ema.items():
            if name in state["ema"]:
                ema.model.load_state_dict(state["ema"][name])
        for name, opt in family.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        family.load_state_dict(state["family_state"])
    except (RuntimeError, KeyError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0][:160]
        raise ToolkitError(
            f"the checkpoint does not fit this model/config ({first}); resume with the run's own config.json"
        ) from None
    trainer.batches.load_state_dict(state["batches"])
    torch.set_rng_state(state["rng_cpu"])
    if trainer.device.type == "cuda" and state.get("rng_cuda"):
        torch.cuda.set_rng_state_all(state["rng_cuda"])
    if trainer.world.rank:  # rank 0's streams were saved; the other ranks start fresh, distinct ones
        torch.manual_seed(trainer.config.seed + 1_000_003 * trainer.world.rank + int(state["step"]))
    trainer.interval.load(state["log_sums"], state["log_count"], trainer.device)
    trainer.elapsed, trainer.step = float(state["elapsed"]), int(state["step"])


def recorded_choice(saved: dict, changed: dict) -> dict:
    """The precision and memory format a resumed run keeps: what ``auto`` resolved to when the run started
    (config.json's ``precision_used`` / ``memory_format_used``), not a new decision on this machine, unless
    the resume names them. A run recorded before that was saved ran auto as fp32 on a CPU, so it keeps fp32
    there (auto's other choices are unchanged)."""
    pinned = {}
    for name in ("precision", "memory_format"):
        if name in changed:
            continue
        if f"{name}_used" in saved:
            pinned[name] = saved[f"{name}_used"]
        elif name == "precision" and saved.get("precision", "auto") == "auto":
            on_cpu = pick_device(changed.get("device", saved.get("device", "auto"))).type == "cpu"
            pinned[name] = "fp32" if on_cpu else "auto"
    return pinned


def resume(
    cls, run_dir, steps: int | None = None, callbacks=(), progress: bool = True, with_data=None, **overrides
):
    """Re-create a run from its config.json, load checkpoints/last.pt, and drop metrics rows
    logged after that checkpoint (they will be logged again, identically).

    ``overrides`` may change the loop's intervals, device and threads and the family's ``resumable``
    settings (e.g. learning rates, to rescue a diverged run); they are applied to the optimizers,
    recorded as a "changed" event and shown in config.json. Any other changed setting (model, data,
    resolution, ...) is a one-line error, and so is ``steps`` below the checkpoint's step. ``--precision`` and
    ``--memory-format`` keep what the run recorded (:func:`recorded_choice`) unless given."""
    run = Run(run_dir)
    ckpt = run.checkpoint_path()
    if ckpt is None:
        raise ToolkitError(f"nothing to resume in {run_dir}: no {LAST_CHECKPOINT}; start it without --resume")
    saved = run.config()
    family = family_for(saved.get("model", ""))
    if saved.get("data_passed_in") and with_data is None:
        raise ToolkitError(
            f"{run_dir} was trained on data passed in from Python (Trainer(data=...)), which its config "
            "cannot reload; resume it in Python with the same data: Trainer.resume(run_dir, with_data=...)"
        )
    if with_data is not None and list(with_data.shape) != saved.get("sample_shape"):
        raise ToolkitError(
            f"the data passed to resume has images of shape {list(with_data.shape)}, but {run_dir} was "
            f"trained on {saved.get('sample_shape')}; pass the data the run was started with"
        )
    if with_data is not None:  # the same images, not only the same shape (config.json's passed_in_data)
        check_same_data(saved, with_data, run_dir, "resume")
    changed = {
        k: v
        for k, v in {**overrides, **({} if steps is None else {"steps": steps})}.items()
        if saved.get(k) != v
    }
    fixed = sorted(k for k in changed if k not in (*RESUMABLE, *family.resumable))
    if fixed:
        raise ToolkitError(
            f"{', '.join(flag(k) for k in fixed)} cannot change on --resume (the run keeps its "
            f"model, data and networks); start a new --run-dir to change them"
        )
    state = load_checkpoint(ckpt)
    if steps is not None and steps < int(state["step"]):
        raise ToolkitError(
            f"--steps {steps} is below the run's current step {state['step']}; "
            "give a larger --steps (the total, not the number of extra steps)"
        )
    config = family.Config.from_dict({**saved, **recorded_choice(saved, changed), **changed})
    trainer = cls(
        config, data=with_data, run_dir=run_dir, callbacks=callbacks, progress=progress, _resuming=True
    )
    trainer.load_state_dict(load_checkpoint(ckpt, trainer.device))
    trainer.family.apply_settings({k: v for k, v in changed.items() if k in family.resumable})
    if trainer.writer is not None:  # rank 0 of several
        trainer.writer.truncate_metrics(trainer.step)
        if changed:
            trainer.writer.event("changed", step=trainer.step, on="resume", **changed)
    trainer.history = Run(run_dir).metrics()
    return trainer
