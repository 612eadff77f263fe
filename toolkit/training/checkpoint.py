"""What a training checkpoint holds, generic over the family's names (format 2; see ``toolkit/runs.py``).

Everything needed to continue exactly: every net, EMA copy and optimizer by name, the family's own
state (an augmentation's p, a growth schedule), the data position, the RNG states, the half-finished
logging interval, the step and the elapsed time, and config.json's content.
"""

from __future__ import annotations

import json

import torch

from ..errors import ToolkitError


def checkpoint_state(trainer) -> dict:
    family = trainer.family
    return {
        "format": 2,
        "step": trainer.step,
        "family": family.name,
        "nets": {n: net.state_dict() for n, net in family.nets.items()},
        "ema": {n: ema.model.state_dict() for n, ema in trainer.ema.items()},
        "optimizers": {n: opt.state_dict() for n, opt in family.optimizers.items()},
        "family_state": family.state_dict(),
        "batches": trainer.batches.state_dict(),
        "rng_cpu": torch.get_rng_state(),
        "rng_cuda": torch.cuda.get_rng_state_all() if trainer.device.type == "cuda" else [],
        **trainer.interval.state_dict(),
        "elapsed": trainer.elapsed,
        "config": json.loads(json.dumps(trainer.describe())),  # plain types only (weights_only loading)
    }


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
    trainer.interval.load_state_dict(state, trainer.device)
    trainer.elapsed, trainer.step = float(state["elapsed"]), int(state["step"])
