"""Project data-parallel throughput and wall time to 1, 8 and 64 GPUs from the model sizes (docs/scaling.md).

    python benchmarks/scaling_projection.py [--step-ms dcgan=10.0 ...] [--images 1000000]

Model: every step each rank computes its own batch (the measured single-GPU step time, unchanged: the
per-rank batch stays the same) and then all-reduces each phase's gradients, not overlapped with the backward
pass (toolkit/distributed.py). One all-reduce of S bytes over N ranks takes, for NCCL's ring,

    t(S, N) = 2 (N - 1) / N * S / bandwidth + 2 log2(N) * latency        (tree-like latency at small S)

with bandwidth and latency per link: NVLink inside one 8-GPU machine, InfiniBand between machines (the
slowest link sets a ring's pace). Assumptions, stated, not measured here: NVLink 150 GB/s and 5 us, 400 Gb/s
InfiniBand = 40 GB/s effective and 10 us; fp32 gradients. Per-GPU step times default to the H100 figures in
benchmarks/bench_train_step.py (launch-bound: nearly independent of the batch at these sizes).
"""

import argparse
import math

from toolkit.families import config_for, family_for
from toolkit.families.base import DataSpec

NVLINK = (150e9, 5e-6)  # bytes/s, seconds
INFINIBAND = (40e9, 10e-6)
H100_STEP_MS = {"dcgan": 10.0, "wgan-gp": 67.0}  # bench_train_step.py's docstring (batch 64, H100)
SPECS = {
    "dcgan": DataSpec((1, 32, 32), "images", 0),
    "wgan-gp": DataSpec((1, 32, 32), "images", 0),
    "pggan": DataSpec((1, 32, 32), "images", 0),
    "pix2pix": DataSpec((1, 32, 32), "translation", 0, (1, 32, 32)),
    "cyclegan": DataSpec((1, 32, 32), "translation", 0, (1, 32, 32)),
    "srgan": DataSpec((1, 8, 8), "super-resolution", 0, (1, 32, 32)),
}


def allreduce_seconds(nbytes: float, n: int) -> float:
    if n == 1:
        return 0.0
    bandwidth, latency = NVLINK if n <= 8 else INFINIBAND
    return 2 * (n - 1) / n * nbytes / bandwidth + 2 * math.log2(n) * latency


def phase_bytes(model: str) -> list[int]:
    """Bytes all-reduced per phase of one step, in the family's phase order (fp32 gradients)."""
    cfg = config_for(model)
    family = family_for(model)
    nets = family.build_nets(cfg, SPECS[model])
    size = {k: sum(p.numel() for p in v.parameters()) * 4 for k, v in nets.items()}
    if model in ("cyclegan",):
        return [size["G_AB"] + size["G_BA"], size["D_A"] + size["D_B"]]
    n_critic = getattr(cfg, "n_critic", 1)
    return [size["D"]] * n_critic + [size["G"]]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--step-ms", nargs="*", default=[], help="model=ms per step on one GPU")
    p.add_argument("--images", type=float, default=10e6, help="images to train on, for the wall time")
    a = p.parse_args()
    step_ms = dict(H100_STEP_MS)
    step_ms.update({k: float(v) for k, v in (s.split("=") for s in a.step_ms)})

    print("| family (default size) | batch per rank | all-reduced per step | on 8 GPUs | on 64 GPUs |")
    print("| --- | --- | --- | --- | --- |")
    for model in SPECS:
        phases = phase_bytes(model)
        comm = [sum(allreduce_seconds(b, n) for b in phases) for n in (8, 64)]
        print(
            f"| {model} | {config_for(model).batch_size} | {sum(phases) / 1e6:.2f} MB in {len(phases)} "
            f"all-reduces | {1000 * comm[0]:.2f} ms | {1000 * comm[1]:.2f} ms |"
        )
    print()
    print(f"| model | GPUs | effective batch | step | images/s | hours for {a.images:,.0f} images |")
    print("| --- | --- | --- | --- | --- | --- |")
    for model, ms in step_ms.items():
        phases, batch = phase_bytes(model), config_for(model).batch_size
        for n in (1, 8, 64):
            step = ms / 1000 + sum(allreduce_seconds(b, n) for b in phases)
            rate = n * batch / step
            print(
                f"| {model} | {n} | {n * batch:,} | {1000 * step:.2f} ms | {rate:,.0f} | "
                f"{a.images / rate / 3600:.2f} |"
            )


if __name__ == "__main__":
    main()
