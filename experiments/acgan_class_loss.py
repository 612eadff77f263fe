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
fmnist-cnn on ``--n-per-class`` generated images per class (``toolkit.metrics.label_accuracy``).

Label accuracy alone rewards over-typical images (Shu et al. 2017; TAC-GAN, Gong et al. 2019): a G that
draws one perfect shirt for "Shirt" scores 100%. So at the last step the same images are also scored for
realism and diversity, with fmnist-cnn's features: FID over all classes (n generated = n real test images,
balanced over the classes) and, per class, k-NN precision, recall (k = 3) and coverage (k = 5) against as
many real test images of that class. The same scores for real *training* images against the test images
are the floor, and fmnist-cnn's per-class accuracy on the real test images is the ceiling of label
accuracy; both are measured here and written with the runs.

Writes ``summary.json`` (every measurement), ``table.md`` and ``commands.txt`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from toolkit.files import atomic_write_text

METHODS = {
    "paper": ("ACGAN as in the paper: D's class loss on reals and fakes", {}),
    "reals_only": ("D's class loss on reals only (G's class loss unchanged)", {"aux_on_fakes": False}),
}


def class_images(data, n_per_class: int, num_classes: int):
    """The first ``n_per_class`` images of every class of ``data``, class by class."""
    import torch

    return torch.cat([data.x[data.labels == c][:n_per_class] for c in range(num_classes)])


def realism_scores(fake, real, classifier, n_per_class: int, num_classes: int) -> dict:
    """FID over all classes and per-class precision, recall and coverage of ``fake`` against ``real``
    (both ordered class by class, ``n_per_class`` each), with fmnist-cnn's features."""
    import torch

    from toolkit.metrics.fid import frechet_distance
    from toolkit.metrics.prdc import prdc

    with torch.no_grad():
        ff = torch.cat([classifier.features(b) for b in fake.split(500)])
        fr = torch.cat([classifier.features(b) for b in real.split(500)])
    per_class = {"precision": [], "recall": [], "coverage": []}
    for c in range(num_classes):
        part = slice(c * n_per_class, (c + 1) * n_per_class)
        scores = prdc(fr[part], ff[part])
        for key in per_class:
            per_class[key].append(round(float(getattr(scores, key)), 4))
    return {"fid": round(frechet_distance(fr.numpy(), ff.numpy()), 3), **per_class}


def generated_by_class(G, z_dim: int, n_per_class: int, num_classes: int, seed: int = 0):
    """``n_per_class`` images of every class from G, class by class (the latents label_accuracy uses)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    was_training = G.training
    G.eval()
    with torch.no_grad():
        images = [
            G(torch.randn(n_per_class, z_dim, generator=g), torch.full((n_per_class,), c))
            for c in range(num_classes)
        ]
    G.train(was_training)
    return torch.cat(images)


def run_one(method: str, overrides: dict, seed: int, args, data, classifier, real_test) -> list[dict]:
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
    fake = generated_by_class(trainer.generator, config.z_dim, args.n_per_class, len(curve[-1]["per_class"]))
    curve[-1].update(
        realism_scores(fake, real_test, classifier, args.n_per_class, len(curve[-1]["per_class"]))
    )
    print(
        f"{method} seed {seed} step {args.steps}: FID {curve[-1]['fid']:.2f}, mean recall "
        f"{sum(curve[-1]['recall']) / len(curve[-1]['recall']):.3f}, mean coverage "
        f"{sum(curve[-1]['coverage']) / len(curve[-1]['coverage']):.3f}",
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
    test = load_dataset("fashion-mnist", split="test")
    classifier = load_fmnist_cnn()
    C = len(FASHION_MNIST_CLASSES)
    real_test = class_images(test, args.n_per_class, C)
    with torch.no_grad():
        predicted = torch.cat([classifier(b).argmax(1) for b in test.x.split(1000)])
    ceiling = [round(float((predicted[test.labels == c] == c).float().mean()), 4) for c in range(C)]
    floor = realism_scores(
        class_images(data, args.n_per_class, C), real_test, classifier, args.n_per_class, C
    )
    summary = {
        "classes": list(FASHION_MNIST_CLASSES),
        "settings": vars(args) | {"out": str(args.out)},
        "real_test_accuracy": {
            "per_class": ceiling,
            "mean": round(float((predicted == test.labels).float().mean()), 4),
        },
        "real_train_vs_test": floor,
        "runs": {},
    }
    t0 = time.time()
    for method in args.methods:
        for seed in args.seeds:
            curve = run_one(method, METHODS[method][1], seed, args, data, classifier, real_test)
            summary["runs"][f"{method}/seed{seed}"] = curve
    summary["seconds"] = round(time.time() - t0, 1)
    summary["machine"] = f"{platform.processor() or platform.machine()}, torch {torch.__version__}, 1 thread"
    atomic_write_text(args.out / "summary.json", json.dumps(summary, indent=1))

    lines = [
        f"ACGAN on all of Fashion-MNIST, {args.steps} steps, batch 64, width {args.width}, "
        f"seeds {args.seeds}; label accuracy = fmnist-cnn's accuracy on {args.n_per_class} generated "
        "images per class, at the last step; mean ± std over seeds.",
        "",
        "| method | label accuracy | classes below 10% | worst class | FID | recall | coverage "
        "| lowest recall |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for method in args.methods:
        finals = torch.tensor([summary["runs"][f"{method}/seed{s}"][-1]["per_class"] for s in args.seeds])
        means = finals.mean(1)
        low = (finals < 0.1).sum(1).float()
        worst = int(finals.mean(0).argmin())
        last = [summary["runs"][f"{method}/seed{s}"][-1] for s in args.seeds]
        fid = torch.tensor([r["fid"] for r in last])
        recall = torch.tensor([r["recall"] for r in last])
        coverage = torch.tensor([r["coverage"] for r in last])
        lowest = int(recall.mean(0).argmin())
        lines.append(
            f"| {METHODS[method][0]} | {means.mean():.1%} ± {means.std():.1%} | {low.mean():.1f} | "
            f"{FASHION_MNIST_CLASSES[worst]} ({finals.mean(0)[worst]:.0%}) | "
            f"{fid.mean():.2f} ± {fid.std():.2f} | {recall.mean():.3f} ± {recall.mean(1).std():.3f} | "
            f"{coverage.mean():.3f} ± {coverage.mean(1).std():.3f} | "
            f"{FASHION_MNIST_CLASSES[lowest]} ({recall.mean(0)[lowest]:.2f}) |"
        )
    real = summary["real_train_vs_test"]
    lines.append(
        f"| real training images (the floor; the ceiling of label accuracy) | "
        f"{summary['real_test_accuracy']['mean']:.1%} | - | - | {real['fid']:.2f} | "
        f"{sum(real['recall']) / C:.3f} | {sum(real['coverage']) / C:.3f} | - |"
    )
    lines += [
        "",
        f"FID over {args.n_per_class * C} generated vs as many real test images (balanced over the classes); "
        f"recall (k = 3) and coverage (k = 5) per class on {args.n_per_class} generated vs "
        f"{args.n_per_class} real test images of the class, averaged over the classes; fmnist-cnn "
        "features. The real row scores real training images against the same test images, and its label "
        "accuracy is fmnist-cnn's on the 10,000 test images.",
        "",
        f"Produced by `python {' '.join(sys.argv)}` on {summary['machine']} in {summary['seconds']} s.",
    ]
    atomic_write_text(args.out / "table.md", "\n".join(lines) + "\n")
    atomic_write_text(args.out / "commands.txt", f"python {' '.join(sys.argv)}\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
