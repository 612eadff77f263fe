"""Train the Fashion-MNIST feature network shipped with the toolkit.

    python -m toolkit.metrics.train_feature_net [--epochs 4] [--out toolkit/metrics/weights/fmnist_cnn.pt]

Seeded; about 5 minutes on 2 CPU cores. Prints the test-set accuracy (tests/metrics/test_extractors.py
asserts >= 90% for the shipped weights).
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from ..data import load_dataset
from ..files import atomic_write
from ..runtime import set_threads
from .fmnist_cnn import WEIGHTS, FashionCNN


@torch.no_grad()
def accuracy(net: FashionCNN, x: torch.Tensor, y: torch.Tensor, batch: int = 1000) -> float:
    net.eval()
    correct = sum(
        (net(x[i : i + batch]).argmax(1) == y[i : i + batch]).sum().item() for i in range(0, len(x), batch)
    )
    return correct / len(x)


def train(
    epochs: int = 4, batch_size: int = 128, lr: float = 2e-3, seed: int = 0
) -> tuple[FashionCNN, float]:
    torch.manual_seed(seed)
    train_set, test_set = load_dataset("fashion-mnist"), load_dataset("fashion-mnist", split="test")
    net = FashionCNN()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    steps = epochs * (len(train_set) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    g = torch.Generator().manual_seed(seed)
    t0 = time.time()
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(train_set), generator=g)
        for i in range(len(train_set) // batch_size):
            idx = perm[i * batch_size : (i + 1) * batch_size]
            x = train_set.x[idx]
            x = torch.where(torch.rand(len(x), 1, 1, 1, generator=g) < 0.5, x, x.flip(3))  # horizontal flips
            loss = F.cross_entropy(net(x), train_set.labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        acc = accuracy(net, test_set.x, test_set.labels)
        print(
            f"epoch {epoch + 1}/{epochs}: loss {loss.item():.3f}, test accuracy {acc:.4f} "
            f"({time.time() - t0:.0f} s)"
        )
    print(f"feature scale {net.calibrate(train_set.x):.4f}")
    return net, acc


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", default=str(WEIGHTS))
    a = p.parse_args()
    set_threads(a.threads)
    net, acc = train(a.epochs, seed=a.seed)
    state = net.state_dict()
    atomic_write(a.out, lambda f: torch.save(state, f))
    print(f"saved {a.out} (test accuracy {acc:.4f})")


if __name__ == "__main__":
    main()
