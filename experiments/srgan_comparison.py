"""Bicubic vs SRResNet (MSE, L1) vs SRGAN on held-out images (lesson 11; Ledig et al. 2017, table 1).

    python experiments/srgan_comparison.py --out results/srgan [--steps 3000 --gan-steps 1200 --n-test 5000]
    python experiments/srgan_comparison.py --out results/srgan --photos     # also photographs 32 -> 128

Every network is trained by ``python -m toolkit train`` (one process at a time, one CPU thread); the exact
commands are written to ``commands.txt``, so any row can be re-trained alone. Methods, on Fashion-MNIST
7x7 -> 28x28 (x4, bicubic-with-antialiasing downscaling), G = SRResNet with ``--blocks``/``--width``:

* ``bicubic``: no network;
* ``srresnet_mse``: the paper's SRResNet (pixel MSE); ``srresnet_l1``: the same with an L1 pixel loss;
* ``srresnet_content``: content loss alone (no D, no pixel term), started from ``srresnet_mse``: the paper's
  "SRResNet-VGG54" row, which separates what the content loss does from what the adversarial term does;
* ``srgan``: content loss + 1e-3 adversarial (the paper's SRGAN-VGG54), started from ``srresnet_mse`` as in
  the paper, at the paper's Adam(1e-4).

The content loss uses the offline backbone ``fmnist-cnn`` (the toolkit's Fashion-MNIST classifier) at its
deepest layer ``relu3``, as the paper uses VGG19's deepest, relu5_4 (VGG weights are not on this machine).
Scores on the first ``--n-test`` test images (never trained on), all per image then averaged:

* ``psnr`` (dB, [0, 1] pixels) and ``ssim``: pixel-aligned closeness to the original;
* ``perceptual``: mean squared fmnist-cnn relu3 feature difference to the original. This is the very
  network and layer SRGAN's content loss minimises, so SRGAN is graded by its own objective here;
* ``detail``: fine detail (mean |Laplacian|) over the original's; 1 = as detailed as real images;
* ``fid``: FID[fmnist-cnn] between the outputs' and the originals' 128-D classifier features (the same
  network's penultimate layer: a *distribution* comparison, not a per-image one); ``fid_floor`` is two
  disjoint halves of the real test set;
* ``accuracy``: the fmnist-cnn classifier's accuracy on the outputs (``accuracy_real`` on the originals).

Writes ``summary.json``, ``table.md``, ``commands.txt`` and ``grid.png`` (one row per held-out image:
input | bicubic | SRResNet-MSE | SRResNet-L1 | content only | SRGAN | original) into ``--out``; the run
directories go to ``--out/runs`` (not committed). A finished run found there is scored, not retrained.
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

import torch

from toolkit.files import atomic_write_text

COLUMNS = ("bicubic", "srresnet_mse", "srresnet_l1", "srresnet_content", "srgan")
LABELS = {
    "bicubic": "bicubic (no network)",
    "srresnet_mse": "SRResNet, MSE",
    "srresnet_l1": "SRResNet, L1",
    "srresnet_content": "SRResNet, content loss only (from SRResNet-MSE)",
    "srgan": "SRGAN: content + 1e-3 adversarial (from SRResNet-MSE)",
}


def methods(args, data: str, runs: Path) -> dict[str, list[str]]:
    """Each trained method's flags for ``python -m toolkit train`` (after --run-dir)."""
    net = [
        "--blocks",
        str(args.blocks),
        "--width",
        str(args.width),
        "--batch-size",
        "16",
        "--seed",
        str(args.seed),
    ]
    if data == "photos":
        net = [
            "--blocks",
            "4",
            "--width",
            "16",
            "--batch-size",
            "8",
            "--seed",
            str(args.seed),
            "--resolution",
            "128",
        ]
    common = ["--data", data, "--device", "cpu", "--log-every", "50", "--sample-every", "0", *net]
    pre = ["--steps", str(args.steps), "--lr-g", str(args.lr), "--lr-decay", "0.5"]
    init = ["--init-from", str(runs / "srresnet_mse"), "--steps", str(args.gan_steps)]
    out = {
        "srresnet_mse": ["--model", "srresnet", *common, *pre],
        "srresnet_l1": ["--model", "srresnet", *common, *pre, "--pixel-loss", "l1"],
        "srresnet_content": [
            "--model",
            "srresnet",
            *common,
            *init,
            "--pixel-weight",
            "0",
            "--content-weight",
            "1",
        ],
        "srgan": ["--model", "srgan", *common, *init, "--d-width", str(args.d_width)],
    }
    if data == "photos":  # the two that matter, to keep the time down
        out = {k: out[k] for k in ("srresnet_mse", "srgan")}
    return out


def finished(run_dir: Path, steps: int) -> bool:
    from toolkit.generate import load_nets

    try:
        _, config, _ = load_nets(run_dir, "cpu")
    except Exception:
        return False
    return int(config.get("checkpoint_step", -1)) >= steps


def train(name: str, flags: list[str], runs: Path, log: Path) -> list[str]:
    from toolkit import jobs

    cmd = jobs.train_command(runs / name, [*flags, "--overwrite"] if (runs / name).exists() else flags)
    steps = int(flags[flags.index("--steps") + 1])
    if finished(runs / name, steps):
        print(f"{name}: finished run found, not retrained", flush=True)
        return cmd
    start = time.time()
    with open(log, "a") as f:
        f.write(shlex.join(cmd) + "\n")
        f.flush()
        code = subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT)
    if code:
        raise SystemExit(f"{name} failed (exit {code}); see {log}")
    print(f"{name}: trained in {time.time() - start:.0f}s", flush=True)
    return cmd


@torch.no_grad()
def upscale_all(G, low: torch.Tensor, batch: int = 250) -> torch.Tensor:
    return torch.cat([G(low[i : i + batch]).clamp(-1, 1) for i in range(0, len(low), batch)])


def score(out, high, labels, backbone, classifier, target_feats) -> dict:
    from toolkit.metrics.fid import frechet_distance
    from toolkit.metrics.image_quality import detail_ratio, perceptual_distance, psnr, ssim

    chunks = range(0, len(out), 500)
    perceptual = torch.cat(
        [perceptual_distance(backbone, out[i : i + 500], high[i : i + 500], ["relu3"]) for i in chunks]
    )
    result = {
        "psnr": psnr(out, high).mean().item(),
        "ssim": ssim(out, high).mean().item(),
        "perceptual": perceptual.mean().item(),
        "detail": detail_ratio(out, high).mean().item(),
    }
    if classifier is not None:
        feats = torch.cat([classifier.features(out[i : i + 500]) for i in chunks]).numpy()
        logits = torch.cat([classifier(out[i : i + 500]) for i in chunks])
        result["fid"] = frechet_distance(feats, target_feats)
        result["accuracy"] = (logits.argmax(1) == labels).float().mean().item()
    return result


def run_set(args, data: str, out: Path, log: Path) -> dict:
    from toolkit.backbones import load_backbone
    from toolkit.data.fashion_mnist import load_fashion_mnist
    from toolkit.data.super_resolution import bicubic_upscale, load_super_resolution
    from toolkit.generate import load_nets
    from toolkit.metrics.fid import frechet_distance
    from toolkit.metrics.fmnist_cnn import load_fmnist_cnn
    from toolkit.runs import Run
    from toolkit.viz import save_grid

    runs = out / "runs" / data
    runs.mkdir(parents=True, exist_ok=True)
    commands = {name: train(name, flags, runs, log) for name, flags in methods(args, data, runs).items()}
    backbone = load_backbone("fmnist-cnn")
    if data == "fashion-mnist":
        test = load_super_resolution("fashion-mnist", split="test")  # all 10,000, in order
        labels = load_fashion_mnist("test", pad_to_32=False).labels
        classifier = load_fmnist_cnn()
        n = min(args.n_test, 5000)
        all_feats = torch.cat([classifier.features(test.b[i : i + 1000]) for i in range(0, 10_000, 1000)])
        floor = frechet_distance(all_feats[:5000].numpy(), all_feats[5000:].numpy())
        low, high, labels, target_feats = test.a[:n], test.b[:n], labels[:n], all_feats[:n].numpy()
        acc_real = (classifier(high).argmax(1) == labels).float().mean().item()
    else:
        test = load_super_resolution("photos", split="test", resolution=128, limit=64)
        low, high, labels, classifier, target_feats, floor, acc_real = (
            test.a,
            test.b,
            None,
            None,
            None,
            None,
            None,
        )
    outputs = {"bicubic": bicubic_upscale(low, 4)}
    results = {}
    for name in commands:
        run = Run(runs / name)
        nets, config, _ = load_nets(run.dir, "cpu")
        outputs[name] = upscale_all(nets["G"], low)
        rows = run.metrics()
        results[name] = {
            "label": LABELS[name],
            "steps": int(config["checkpoint_step"]),
            "train_seconds": round(rows[-1]["time"], 1) if rows else None,
            "first_log": {k: v for k, v in rows[0].items() if isinstance(v, (int, float))} if rows else {},
            "last_log": {k: v for k, v in rows[-1].items() if isinstance(v, (int, float))} if rows else {},
        }
    results = {"bicubic": {"label": LABELS["bicubic"], "steps": 0, "train_seconds": 0.0}, **results}
    for name, images in outputs.items():
        results[name].update(score(images, high, labels, backbone, classifier, target_feats))
        print(data, name, json.dumps(results[name]), flush=True)
    k = 8
    blocky = low[:k].repeat_interleave(4, -1).repeat_interleave(4, -2)
    columns = [blocky, *(outputs[c][:k] for c in COLUMNS if c in outputs), high[:k]]
    save_grid(
        torch.stack(columns, 1).flatten(0, 1),
        out / f"grid{'' if data == 'fashion-mnist' else '_' + data}.png",
        nrow=len(columns),
        scale=3 if data == "fashion-mnist" else 1,
    )
    return {
        "n_test": len(low),
        "fid_floor": floor,
        "accuracy_real": acc_real,
        "commands": {name: shlex.join(["python", *c[1:]]) for name, c in commands.items()},
        "runs": results,
    }


def table(summary: dict) -> str:
    s = summary["settings"]
    fm = summary["sets"]["fashion-mnist"]
    lines = [
        f"Fashion-MNIST 7x7 -> 28x28 (x4), SRResNet {s['blocks']} blocks x {s['width']} channels "
        f"(paper 16 x 64), SRGAN D width {s['d_width']} (paper 64), batch 16, seed {s.get('seed', 0)}, "
        f"one CPU thread "
        f"({summary['machine']}, torch {summary['torch']}). SRResNets: {s['steps']} steps at lr {s['lr']:g} "
        f"(linear decay over the last half); content-only and SRGAN: {s['gan_steps']} more steps from "
        f"SRResNet-MSE at the paper's 1e-4. Scored on {fm['n_test']} held-out test images. perceptual: "
        f"fmnist-cnn relu3 feature MSE (the network and layer of the content loss); detail: fine detail / "
        f"the original's; FID[fmnist-cnn] against the originals (two halves of the real test set: "
        f"{fm['fid_floor']:.2f}); accuracy: the fmnist-cnn classifier on the outputs (originals: "
        f"{fm['accuracy_real']:.3f}).",
        "",
        "| method | PSNR (dB) ↑ | SSIM ↑ | perceptual ↓ | detail (1 = real) | FID[fmnist-cnn] ↓ | accuracy ↑ "
        "| training (s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in fm["runs"].values():
        lines.append(
            f"| {r['label']} | {r['psnr']:.2f} | {r['ssim']:.3f} | {r['perceptual']:.4f} | {r['detail']:.2f} "
            f"| {r['fid']:.2f} | {r['accuracy']:.3f} | {r['train_seconds']:.0f} |"
        )
    if "photos" in summary["sets"]:
        ph = summary["sets"]["photos"]
        lines += [
            "",
            f"Photographs 32x32 -> 128x128 crops (x4), SRResNet 4 blocks x 16, batch 8; {ph['n_test']} "
            "held-out crops (the right 30% of each photograph).",
            "",
            "| method | PSNR (dB) ↑ | SSIM ↑ | perceptual ↓ | detail (1 = real) | training (s) |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in ph["runs"].values():
            lines.append(
                f"| {r['label']} | {r['psnr']:.2f} | {r['ssim']:.3f} | {r['perceptual']:.4f} "
                f"| {r['detail']:.2f} | {r['train_seconds']:.0f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="results/srgan")
    p.add_argument("--steps", type=int, default=3000, help="steps of each SRResNet")
    p.add_argument(
        "--gan-steps", type=int, default=1200, help="steps of SRGAN and content-only after SRResNet"
    )
    p.add_argument(
        "--lr", type=float, default=1e-3, help="SRResNet learning rate (the paper's 1e-4 over 1e6 steps)"
    )
    p.add_argument("--blocks", type=int, default=8)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--d-width", type=int, default=32)
    p.add_argument("--n-test", type=int, default=5000, help="test images scored (at most 5000: FID floor)")
    p.add_argument(
        "--seed", type=int, default=0, help="seed of every trained network (the test set is fixed)"
    )
    p.add_argument("--photos", action="store_true", help="also photographs 32 -> 128 (a 4 x 16 SRResNet)")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    log = out / "runs" / "train.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.time()
    sets = {"fashion-mnist": run_set(args, "fashion-mnist", out, log)}
    if args.photos:
        sets["photos"] = run_set(args, "photos", out, log)
    summary = {
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "threads": 1,
        "backbone": "fmnist-cnn",
        "content_layer": "relu3",
        "seconds": round(time.time() - start),
        "sets": sets,
    }
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1) + "\n")
    atomic_write_text(out / "table.md", table(summary))
    lines = ["python experiments/srgan_comparison.py " + shlex.join(sys.argv[1:]), "", "# each run alone:"]
    lines += [c for s in sets.values() for c in s["commands"].values()]
    atomic_write_text(out / "commands.txt", "\n".join(lines) + "\n")
    print(table(summary))


if __name__ == "__main__":
    main()
