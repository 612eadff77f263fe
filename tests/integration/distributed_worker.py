"""Run by tests/integration/test_distributed.py under torchrun (2 processes, gloo, CPU): trains each family
for a few steps on its ranks and saves every rank's weights, so the test can check that the ranks stayed in
sync.

    torchrun --standalone --nproc_per_node=2 tests/integration/distributed_worker.py OUT_DIR [CASE ...]
"""

import sys
from pathlib import Path

import torch

from toolkit.families import config_for
from toolkit.training import Trainer

LOOP = dict(steps=6, log_every=3, sample_every=0, checkpoint_every=0, threads=1)
CASES = {
    "dcgan": ("dcgan", dict(data="digits", width=8, z_dim=16, batch_size=8)),
    "acgan-ada": (
        "acgan",
        dict(data="digits", width=8, z_dim=16, batch_size=8, augment="ada", ada_kimg=0.05, ada_interval=1),
    ),
    "wgan-gp": ("wgan-gp", dict(data="digits", width=8, z_dim=16, batch_size=8, n_critic=2)),
    "pggan": ("pggan", dict(data="digits", width=8, z_dim=16, batch_size=8, stage_kimg=0.02, fade_kimg=0.02)),
    "pix2pix": ("pix2pix", dict(limit=32, width=4, d_width=4, batch_size=4)),
    "cyclegan": ("cyclegan", dict(width=4, blocks=1, d_width=4, batch_size=4, limit=32)),
    "srgan": ("srgan", dict(blocks=2, width=16, d_width=8, batch_size=8, limit=64)),
    "stylegan-ada": (  # style mixing every step, lazy R1 on steps 1, 3, 5, ADA's p from both ranks' r_t
        "stylegan",
        dict(
            **dict(data="digits", resolution=16, width=4, z_dim=8, w_dim=8, mapping_layers=2, batch_size=8),
            **dict(mixing=1.0, r1_interval=2, augment="ada", ada_kimg=0.05, ada_interval=1),
        ),
    ),
}


def main(out: Path, names: list[str]) -> None:
    for name in names:
        model, settings = CASES[name]
        trainer = Trainer(config_for(model, **LOOP, **settings), progress=False)
        initial = {
            n: {k: v.clone() for k, v in net.state_dict().items()} for n, net in trainer.family.nets.items()
        }
        trainer.fit()
        state = trainer.state_dict()
        torch.save(
            {
                "nets": state["nets"],
                "ema": state["ema"],
                "optimizers": state["optimizers"],
                "family_state": state["family_state"],
                "history": trainer.history,
                "initial": initial,
            },
            out / f"{name}-rank{trainer.world.rank}.pt",
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:] or list(CASES))
