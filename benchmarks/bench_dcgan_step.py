"""Time one DCGAN training step (D step + G step) on this machine for several widths and batches.

    python benchmarks/bench_dcgan_step.py [--threads N] [--resolution 32]

Reports milliseconds per step and images per second; used to pick the defaults (see README).
"""

import argparse
import time

import torch

from toolkit.losses import bce_d_loss, nonsaturating_g_loss
from toolkit.models import build_models
from toolkit.runtime import set_threads


def bench(width, batch, resolution, z_dim=64, steps=10):
    G, D = build_models("dcgan", (1, resolution, resolution), z_dim=z_dim, width=width)
    og = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    real = torch.rand(batch, 1, resolution, resolution) * 2 - 1

    def step():
        fake = G(torch.randn(batch, z_dim)).detach()
        ld = bce_d_loss(D(real), D(fake))
        od.zero_grad(set_to_none=True)
        ld.backward()
        od.step()
        lg = nonsaturating_g_loss(D(G(torch.randn(batch, z_dim))))
        og.zero_grad(set_to_none=True)
        lg.backward()
        og.step()

    for _ in range(3):
        step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t) / steps


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--resolution", type=int, default=32)
    p.add_argument("--widths", default="16,32,64")
    p.add_argument("--batches", default="32,64,128")
    a = p.parse_args()
    print(f"threads={set_threads(a.threads)} resolution={a.resolution}")
    for w in map(int, a.widths.split(",")):
        for b in map(int, a.batches.split(",")):
            s = bench(w, b, a.resolution)
            print(f"width={w:3d} batch={b:4d}  {1000 * s:7.1f} ms/step  {b / s:7.0f} img/s")
