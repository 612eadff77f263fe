"""pix2pix's two ablations on edges2fashion (lesson 09; Isola et al. 2017, figures 4 and 5 / tables 1-2):
the L1-only baseline against L1 + GAN, and the U-Net against the same network without its skips.

    python experiments/pix2pix_ablation.py --out results/pix2pix [--steps 3000 --seed 0 --n-test 5000]

Every run is ``--model pix2pix --data edges2fashion`` with the same seed, data and settings except the one
named (the paper's lambda = 100 unless the method says otherwise), trained one after another in this process
on one CPU thread. Each trained G translates the first ``--n-test`` test edge maps (in eval mode, as the
toolkit does), and the translations are scored against their targets:

* ``l1``: the mean absolute error per pixel (images in [-1, 1]);
* ``hf``: the high-frequency energy, the mean square of the image filtered by the 3x3 Laplacian
  (a high-pass filter: flat and smoothly varying regions give 0, edges and texture a lot);
  ``hf_ratio`` = the outputs' hf / the targets' hf (1 = as sharp as the real garments);
* ``fid``: FID[fmnist-cnn] between the translations' and the targets' features (the toolkit's own
  Fashion-MNIST network, not Inception). ``fid_floor``: the FID between two disjoint halves of the test
  targets, the score two sets of real garments get.

Writes ``summary.json``, ``table.md``, ``commands.txt`` and one ``grid_<method>.png`` (input | output |
target for 8 held-out pairs) per method into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from toolkit.files import atomic_write_text

METHODS = {
    "l1_only": ("L1 only (no D)", {"gan_weight": 0.0}),
    "l1_gan": ("L1 + GAN (pix2pix, lambda 100)", {}),
    "l1_gan_lambda10": ("L1 + GAN, lambda 10", {"l1_weight": 10.0}),
    "no_skips": ("L1 + GAN, U-Net without skips", {"skips": False}),
}

LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def high_frequency_energy(images: torch.Tensor) -> float:
    """Mean square of each channel filtered by the 3x3 Laplacian (no padding), over the whole batch."""
    c = images.shape[1]
    kernel = LAPLACIAN.view(1, 1, 3, 3).repeat(c, 1, 1, 1).to(images)
    return F.conv2d(images, kernel, groups=c).pow(2).mean().item()


def run_one(method: str, overrides: dict, args, test, extractor, target_feats) -> dict:
    from toolkit.losses import l1_loss
    from toolkit.metrics.fid import frechet_distance
    from toolkit.training import Trainer, config_for
    from toolkit.viz import save_grid

    config = config_for(
        "pix2pix",
        data="edges2fashion",
        steps=args.steps,
        seed=args.seed,
        threads=1,
        device="cpu",
        log_every=50,
        sample_every=0,
        checkpoint_every=0,
        **overrides,
    )
    trainer = Trainer(config, progress=False)
    start = time.perf_counter()
    rows = trainer.fit()
    seconds = time.perf_counter() - start
    out = torch.cat([trainer.family.translate(test.a[i : i + 500]) for i in range(0, len(test.a), 500)])
    grid, per_row = trainer.grid()
    save_grid(grid, Path(args.out) / f"grid_{method}.png", nrow=per_row, scale=3)
    hf = high_frequency_energy(out)
    result = {
        "label": METHODS[method][0],
        "overrides": overrides,
        "steps": trainer.step,
        "train_seconds": round(seconds, 1),
        "l1": l1_loss(out, test.b).item(),
        "hf": hf,
        "hf_ratio": hf / high_frequency_energy(test.b),
        "fid": frechet_distance(extractor(out).numpy(), target_feats),
        "last_log": {k: v for k, v in rows[-1].items() if isinstance(v, (int, float))},
    }
    print(method, json.dumps(result), flush=True)
    return result


def summarize(summary: dict, out: Path, command: list[str]) -> None:
    s = summary["settings"]
    lines = [
        f"pix2pix on edges2fashion (Canny edges -> Fashion-MNIST, 32x32), {s['steps']} steps of batch 16 per "
        f"run, seed {s['seed']}, one CPU thread ({summary['machine']}, torch {summary['torch']}); scored on "
        f"{s['n_test']} test pairs, translated in eval mode. FID[fmnist-cnn] of translations vs their "
        f"targets (two halves of the real test targets score {summary['fid_floor']:.2f}); hf: mean "
        f"squared Laplacian response (targets: {summary['hf_target']:.4f}).",
        "",
        "| method | L1 on test pairs | hf (outputs / targets) | FID[fmnist-cnn] | training (s) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for r in summary["runs"].values():
        lines.append(
            f"| {r['label']} | {r['l1']:.4f} | {r['hf']:.4f} ({r['hf_ratio']:.2f}) | {r['fid']:.2f} "
            f"| {r['train_seconds']:.0f} |"
        )
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1) + "\n")
    atomic_write_text(out / "table.md", "\n".join(lines) + "\n")
    atomic_write_text(
        out / "commands.txt", " ".join(["python", "experiments/pix2pix_ablation.py", *command]) + "\n"
    )
    print("\n".join(lines))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="results/pix2pix")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-test", type=int, default=5000, help="test pairs scored (at most 5000: FID floor)")
    p.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)

    from toolkit.data.translation import load_translation
    from toolkit.metrics.extractors import load_extractor
    from toolkit.metrics.fid import frechet_distance

    n = min(args.n_test, 5000)
    all_test = load_translation("edges2fashion", split="test", limit=10_000)
    test = all_test.subset(n, 0) if n < len(all_test) else all_test
    extractor = load_extractor("fmnist-cnn", "cpu")
    target_feats = extractor(test.b).numpy()
    half = len(all_test) // 2
    floor = frechet_distance(extractor(all_test.b[:half]).numpy(), extractor(all_test.b[half:]).numpy())
    runs = {m: run_one(m, METHODS[m][1], args, test, extractor, target_feats) for m in args.methods}
    summary = {
        "settings": {"steps": args.steps, "seed": args.seed, "n_test": n, "data": "edges2fashion"},
        "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "threads": 1,
        "features": extractor.name,
        "hf_target": high_frequency_energy(test.b),
        "fid_floor": floor,
        "runs": runs,
    }
    summarize(summary, out, sys.argv[1:])


if __name__ == "__main__":
    main()
