"""Why does ACGAN name the wrong class? (lesson 04; Odena et al. 2017, eq. 2-3)

In the full-mode run of ``experiments/run.py models`` (results/models) ACGAN's generated images got 44%
label accuracy from the independent Fashion-MNIST classifier, with T-shirt, Sandal, Shirt and Bag near 0%,
while the projection cGAN got 92%. This script measures one suspect: ACGAN's discriminator learns its class
head on *generated* images too (the paper's L_C includes log P(C = c | X_fake)). D and G then minimise the
same fake-class cross-entropy, so they can agree on a class code of their own in the fakes that is not what
makes a real image that class.

    python experiments/acgan_class_loss.py --out results/acgan [--steps 1500 --seeds 0 1 2 --width 16]

Each method trains ``--model acgan`` on all of Fashion-MNIST with the same settings, one after another in
this process on one CPU thread, and every ``--eval-every`` steps records the per-class label accuracy of
fmnist-cnn on ``--n-per-class`` generated images per class (``toolkit.metrics.label_accuracy``). Writes
``summary.json`` (every measurement), ``table.md`` and ``commands.txt`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

METHODS = {
    "paper": ("ACGAN as in the paper: D's class loss on reals and fakes", {}),
    "reals_only": ("D's class loss on reals only (G's class loss unchanged)", {"aux_on_fakes": False}),
}


def run_one(method: str, overrides: dict, seed: int, args, data, classifier) -> list[dict]:
    from toolkit.metrics.label_accuracy import label_accuracy
    from toolkit.training import Trainer, config_for

    config = config_for(
        "acgan",
        data="fashion-mnist",
        steps=args.steps,
        width=args.width,
        seed=seed,
        threads=1,
        log_every=50,
        sample_every=0,
        checkpoint_every=0,
        **overrides,
    )
    trainer = Trainer(config, data=data, progress=False)
    curve = []
    for stop in range(args.eval_every, args.steps + 1, args.eval_every):
        trainer.fit(until=stop)
        per_class = label_accuracy(
            trainer.generator, config.z_dim, args.n_per_class, seed=0, classifier=classifier
        )
        curve.append({"step": stop, "per_class": [round(float(a), 4) for a in per_class]})
        mean = float(per_class.mean())
        low = int((per_class < 0.1).sum())
        print(
            f"{method} seed {seed} step {stop}: label accuracy {mean:.1%}, classes below 10%: {low}",
            flush=True,
        )
    return curve


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--n-per-class", type=int, default=200)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    args = parser.parse_args(argv)

    import torch

    from toolkit.data import FASHION_MNIST_CLASSES, load_dataset
    from toolkit.metrics.fmnist_cnn import load_fmnist_cnn
    from toolkit.runtime import set_threads

    set_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    data = load_dataset("fashion-mnist")
    classifier = load_fmnist_cnn()
    summary = {
        "classes": list(FASHION_MNIST_CLASSES),
        "settings": vars(args) | {"out": str(args.out)},
        "runs": {},
    }
    t0 = time.time()
    for method in args.methods:
        for seed in args.seeds:
            curve = run_one(method, METHODS[method][1], seed, args, data, classifier)
            summary["runs"][f"{method}/seed{seed}"] = curve
    summary["seconds"] = round(time.time() - t0, 1)
    summary["machine"] = f"{platform.processor() or platform.machine()}, torch {torch.__version__}, 1 thread"
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))

    lines = [
        f"ACGAN on all of Fashion-MNIST, {args.steps} steps, batch 64, width {args.width}, "
        f"seeds {args.seeds}; label accuracy = fmnist-cnn's accuracy on {args.n_per_class} generated "
        "images per class, at the last step; mean ± std over seeds.",
        "",
        "| method | label accuracy | classes below 10% | worst class |",
        "| --- | ---: | ---: | --- |",
    ]
    for method in args.methods:
        finals = torch.tensor([summary["runs"][f"{method}/seed{s}"][-1]["per_class"] for s in args.seeds])
        means = finals.mean(1)
        low = (finals < 0.1).sum(1).float()
        worst = int(finals.mean(0).argmin())
        lines.append(
            f"| {METHODS[method][0]} | {means.mean():.1%} ± {means.std():.1%} | {low.mean():.1f} | "
            f"{FASHION_MNIST_CLASSES[worst]} ({finals.mean(0)[worst]:.0%}) |"
        )
    lines += [
        "",
        f"Produced by `python {' '.join(sys.argv)}` on {summary['machine']} in {summary['seconds']} s.",
    ]
    (args.out / "table.md").write_text("\n".join(lines) + "\n")
    (args.out / "commands.txt").write_text(f"python {' '.join(sys.argv)}\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
