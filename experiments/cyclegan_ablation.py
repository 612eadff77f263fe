"""CycleGAN with and without its cycle-consistency loss (lesson 10; Zhu et al. 2017 section 5.1.4, table 4).

    python experiments/cyclegan_ablation.py --out results/cyclegan [--steps 1000 --seed 0]

Both runs are ``--model cyclegan`` on ``sneaker2boot`` (Fashion-MNIST sneakers <-> ankle boots, unpaired)
with the same seed and settings; ``no_cycle`` sets ``cycle_weight=0``. The identity loss is weighted
``cycle_weight * identity_weight`` (the reference's convention), so it goes too: ``no_cycle`` is the
paper's "GAN alone". The runs train one after the other in this process, with one CPU thread. Each is
then scored on held-out test images (``--n-test`` per domain):

* ``cycle_error_a`` / ``_b``: mean |G_BA(G_AB(a)) - a| (and the B side), pixels in [-1, 1];
* ``target_rate_a2b`` / ``_b2a``: the share of translations the toolkit's Fashion-MNIST classifier
  calls the target class (argmax of its logits: "Ankle boot" for A -> B, "Sneaker" for B -> A);
* ``iou_own_*`` / ``iou_other_*``: silhouette overlap (IoU of the pixels brighter than -0.5) between each
  translation and its own input, and between it and another input (the next one): the gap is how much of
  the input's shape the translation keeps beyond what every shoe shares;
* ``match_*``: over the first ``--n-match`` inputs, the share of translations whose silhouette overlaps
  their own input more than any other of those inputs (chance: 1 / n_match).

Each run's directory is ``runs/cyclegan_ablation/<run>/`` (follow it in the dashboard); the trained
generators are saved next to it as ``<run>.pt`` (``--evaluate-only`` rescores them).
Writes ``summary.json``, ``table.md``, ``commands.txt`` and one grid per run (``grid_<run>.png``: rows
of a | G_AB(a) | G_BA(G_AB(a)), then b | G_BA(b) | G_AB(G_BA(b))) into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import time
from pathlib import Path

import torch

from toolkit.files import atomic_write_text

METHODS = {"cycle": None, "no_cycle": 0.0}  # cycle_weight (None: the default, 10)
NETS = Path("runs") / "cyclegan_ablation"
THRESHOLD = -0.5  # a pixel belongs to the silhouette above this value (images in [-1, 1], background -1)


def silhouette(x: torch.Tensor) -> torch.Tensor:
    return x > THRESHOLD


def iou(m1: torch.Tensor, m2: torch.Tensor) -> torch.Tensor:
    """Per-image intersection over union of two boolean masks (N, 1, H, W)."""
    inter = (m1 & m2).flatten(1).sum(1).float()
    union = (m1 | m2).flatten(1).sum(1).float().clamp(min=1)
    return inter / union


def match_rate(inputs: torch.Tensor, outputs: torch.Tensor) -> float:
    """Share of outputs whose silhouette overlaps their own input more than any other input."""
    mi, mo = silhouette(inputs), silhouette(outputs)
    scores = torch.stack([iou(mi, mo[i : i + 1].expand_as(mi)) for i in range(len(mo))])  # [output, input]
    return (scores.argmax(1) == torch.arange(len(mo))).float().mean().item()


@torch.no_grad()
def translation_metrics(translate, a, b, classifier, n_match: int = 200) -> dict:
    """``translate(x, "a2b" | "b2a")`` scored on test images ``a`` (sneakers) and ``b`` (ankle boots)."""
    from toolkit.data import FASHION_MNIST_CLASSES as CLASSES

    ab, ba = translate(a, "a2b"), translate(b, "b2a")
    aba, bab = translate(ab, "b2a"), translate(ba, "a2b")
    out = {
        "cycle_error_a": (aba - a).abs().mean().item(),
        "cycle_error_b": (bab - b).abs().mean().item(),
        "target_rate_a2b": (classifier(ab).argmax(1) == CLASSES.index("Ankle boot")).float().mean().item(),
        "target_rate_b2a": (classifier(ba).argmax(1) == CLASSES.index("Sneaker")).float().mean().item(),
    }
    for name, x, y in (("a2b", a, ab), ("b2a", b, ba)):
        out[f"iou_own_{name}"] = iou(silhouette(x), silhouette(y)).mean().item()
        out[f"iou_other_{name}"] = iou(silhouette(x.roll(1, 0)), silhouette(y)).mean().item()
        out[f"match_{name}"] = match_rate(x[:n_match], y[:n_match])
    return out


def settings(args) -> dict:
    return dict(
        data="sneaker2boot",
        steps=args.steps,
        batch_size=8,
        width=args.width,
        blocks=args.blocks,
        d_width=args.width,
        limit=args.limit,
        log_every=50,
        sample_every=0,
        checkpoint_every=0,
        seed=args.seed,
        threads=1,
        device="cpu",
    )


def train_one(method: str, args) -> dict:
    from toolkit.training import Trainer, config_for

    kw = settings(args)
    if METHODS[method] is not None:
        kw["cycle_weight"] = METHODS[method]
    trainer = Trainer(config_for("cyclegan", **kw), run_dir=NETS / method, progress=False, overwrite=True)
    start = time.time()
    rows = trainer.fit()
    seconds = time.time() - start
    NETS.mkdir(parents=True, exist_ok=True)
    torch.save({k: trainer.family.nets[k].state_dict() for k in ("G_AB", "G_BA")}, NETS / f"{method}.pt")
    last = rows[-1]
    print(f"{method}: {args.steps} steps in {seconds:.0f} s", flush=True)
    return {
        "seconds": round(seconds, 1),
        "cycle_weight": trainer.config.cycle_weight,
        "identity_weight": trainer.config.identity_weight,
        "last_logged": {
            k: last[k] for k in ("step", "loss_g", "loss_cycle", "loss_d_a", "loss_d_b") if k in last
        },
    }


def load_generators(method: str, args):
    from toolkit.models.cyclegan import ResnetGenerator

    state = torch.load(NETS / f"{method}.pt", map_location="cpu", weights_only=True)
    nets = {}
    for k in ("G_AB", "G_BA"):
        nets[k] = ResnetGenerator(1, 1, args.width, args.blocks, "instance")
        nets[k].load_state_dict(state[k])
        nets[k].eval()
    return nets


def table(summary: dict) -> str:
    runs = summary["runs"]
    n = summary["settings"]["n_match"]
    lines = [
        f"CycleGAN on sneaker2boot, {summary['settings']['steps']} steps, "
        f"seed {summary['settings']['seed']}; "
        f"{summary['settings']['n_test']} held-out test images per domain.",
        "",
        "| metric | " + " | ".join(runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    labels = {
        "cycle_error_a": "cycle error: mean abs(G_BA(G_AB(a)) - a) (lower: reconstructs)",
        "cycle_error_b": "cycle error: mean abs(G_AB(G_BA(b)) - b)",
        "target_rate_a2b": "classifier says 'Ankle boot' for G_AB(a)",
        "target_rate_b2a": "classifier says 'Sneaker' for G_BA(b)",
        "iou_own_a2b": "silhouette IoU, G_AB(a) with its own a",
        "iou_other_a2b": "silhouette IoU, G_AB(a) with another a",
        "match_a2b": f"G_AB(a) overlaps its own a best, of {n} (chance {1 / n:.3f})",
        "iou_own_b2a": "silhouette IoU, G_BA(b) with its own b",
        "iou_other_b2a": "silhouette IoU, G_BA(b) with another b",
        "match_b2a": f"G_BA(b) overlaps its own b best, of {n}",
    }
    for key, label in labels.items():
        lines.append(f"| {label} | " + " | ".join(f"{runs[m]['metrics'][key]:.3f}" for m in runs) + " |")
    lines.append(
        "| training seconds (1 CPU thread) | " + " | ".join(f"{runs[m]['seconds']:.0f}" for m in runs) + " |"
    )
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="results/cyclegan")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--width", type=int, default=32, help="G's and D's first-layer channels (the family default)"
    )
    p.add_argument("--blocks", type=int, default=6, help="residual blocks per G (the family default)")
    p.add_argument("--limit", type=int, default=None, help="training images per domain (default: all 6,000)")
    p.add_argument("--n-test", type=int, default=1000, help="held-out test images per domain to score")
    p.add_argument("--n-match", type=int, default=200)
    p.add_argument("--evaluate-only", action="store_true", help="rescore the generators saved by a past run")
    args = p.parse_args(argv)

    from toolkit.data.translation import load_translation
    from toolkit.families.translation import side_by_side
    from toolkit.metrics.fmnist_cnn import load_fmnist_cnn
    from toolkit.viz import save_grid

    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    old = json.loads((out / "summary.json").read_text()) if args.evaluate_only else None
    test = load_translation("sneaker2boot", split="test", paired=False, limit=args.n_test, seed=0)
    classifier = load_fmnist_cnn()
    runs = {}
    for method in METHODS:
        info = old["runs"][method] if old else train_one(method, args)
        info = {k: v for k, v in info.items() if k != "metrics"}
        G = load_generators(method, args)

        def translate(x, direction):
            return G["G_AB" if direction == "a2b" else "G_BA"](x)

        info["metrics"] = translation_metrics(translate, test.a, test.b, classifier, args.n_match)
        print(method, {k: round(v, 3) for k, v in info["metrics"].items()}, flush=True)
        runs[method] = info
        a, b = test.a[:8], test.b[:8]
        with torch.no_grad():
            ab, ba = translate(a, "a2b"), translate(b, "b2a")
            rows = torch.cat(
                [side_by_side(a, ab, translate(ab, "b2a"))[0], side_by_side(b, ba, translate(ba, "a2b"))[0]]
            )
        save_grid(rows, out / f"grid_{method}.png", nrow=3)
    from toolkit.data import FASHION_MNIST_CLASSES as CLASSES

    with torch.no_grad():  # the classifier on real test images: what a perfect translation would score
        real = {
            "ankle_boot_rate_real_b": (classifier(test.b).argmax(1) == CLASSES.index("Ankle boot"))
            .float()
            .mean()
            .item(),
            "sneaker_rate_real_a": (classifier(test.a).argmax(1) == CLASSES.index("Sneaker"))
            .float()
            .mean()
            .item(),
        }
    summary = {
        "settings": {
            **settings(args),
            "n_test": len(test.a),
            "n_match": args.n_match,
            "threshold": THRESHOLD,
        },
        "machine": platform.machine(),
        "torch": torch.__version__,
        "classifier_on_real_test": real,
        "runs": runs,
    }
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1))
    atomic_write_text(out / "table.md", table(summary))
    command = "python experiments/cyclegan_ablation.py " + shlex.join(
        argv if argv is not None else sys.argv[1:]
    )
    if not args.evaluate_only:
        atomic_write_text(out / "commands.txt", command.strip() + "\n")
    print(table(summary))


if __name__ == "__main__":
    main()
