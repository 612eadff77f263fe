"""Time the training loop's real step (the ``gan`` family's phases through ``Trainer``) for every model and
augmentation, so their costs can be compared on this machine.

    python benchmarks/bench_train_step.py [--threads N] [--device cpu|cuda] [--steps 30]

Uses random 32x32 images (no dataset needed). Reports milliseconds per generator step (for WGAN-GP
that includes its 5 critic steps and the gradient penalty's second backward pass).
Measured on a 2-core CPU with 1 thread (2026-11, batch 64, width 32; ±15% run to run): dcgan ~210 ms,
cgan ~210, acgan ~200, ada / diffaugment / diffusion ~185-200 (the augmentation costs little next to the
convolutions), R1 ~270, wgan-gp ~970. On an H100 (1 thread, launch-bound, from steps/s in training):
dcgan ~10 ms, cgan ~11, acgan ~12, diffusion ~14, diffaugment ~14, ada ~21 (many small per-image ops),
wgan-gp ~67.
"""

import argparse
import time

import torch

from toolkit.data import TensorData
from toolkit.runtime import set_threads
from toolkit.training import TrainConfig, Trainer

CASES = [
    ("dcgan", {}),
    ("cgan", {}),
    ("acgan", {}),
    ("wgan-gp", {}),
    ("dcgan", {"augment": "ada"}),
    ("dcgan", {"augment": "diffaugment"}),
    ("dcgan", {"augment": "diffusion"}),
    ("dcgan", {"r1_weight": 1.0}),
]


def bench(model: str, extra: dict, device: str, steps: int) -> float:
    g = torch.Generator().manual_seed(0)
    data = TensorData(
        "random",
        torch.rand(2048, 1, 32, 32, generator=g) * 2 - 1,
        torch.randint(10, (2048,), generator=g),
        [str(i) for i in range(10)],
    )
    cfg = TrainConfig.for_model(
        model,
        steps=steps + 5,
        log_every=steps + 5,
        sample_every=0,
        checkpoint_every=0,
        device=device,
        **extra,
    )
    t = Trainer(cfg, data=data, progress=False)
    if "augment" in extra and hasattr(t.family.augment, "p"):
        t.family.augment.p.fill_(0.5)  # a realistic mid-run p / T
    t.fit(until=5)  # warm-up
    if t.device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    t.fit(until=steps + 5)
    if t.device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--device", default="cpu")
    p.add_argument("--steps", type=int, default=30)
    a = p.parse_args()
    print(f"threads={set_threads(a.threads)} device={a.device}")
    for model, extra in CASES:
        label = model + "".join(f" {k}={v}" for k, v in extra.items())
        print(
            f"{label:28s} {1000 * bench(model, extra, a.device, a.steps):8.1f} ms per generator step",
            flush=True,
        )
