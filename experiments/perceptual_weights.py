"""How the content and style weights steer lesson 12's two kinds of style transfer, measured (lesson 12, #31).

    python experiments/perceptual_weights.py --out results/perceptual

The content image is scikit-image's cat (``chelsea``), the style the stained-tissue micrograph
(``immunohistochemistry``), both built in; the loss network is the toolkit's offline backbone, fmnist-cnn
(ImageNet's VGG cannot be downloaded here, and these weights were never run with it).

* ``optimisation``: ``toolkit.stylize.style_transfer`` (Gatys et al.: Adam on the pixels, started from
  the content image) at the style weight lesson 12 uses (1e5) and content weights 0, 1, 1e2, ..., 1e6,
  for a short run (the slider cell's 25 steps at 48 px) and a long one (``--long-steps`` at ``--side``
  px). The start is the content image, so these runs have no seed: each is one deterministic
  measurement. Reported per run: the content loss (feature distance to the photograph at the content
  layer), the style distance (Gram matrices to the style's) and the pixel error (mean square against
  the photograph), all at the end.
* ``network``: ``toolkit.fast_style.train_transform_net`` (Johnson et al.: a transformation network
  trained from random weights) with lesson 12's quick settings, at the network's style weight (10) and
  at the optimisation's (1e5), over seeds 0, 1, 2: the content loss of the first and the last tenth of
  the steps.

Writes ``summary.json``, ``table.md`` and ``commands.txt`` into ``--out``; lesson 12 prints from them.
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

CONTENT_WEIGHTS = (0.0, 1.0, 1e2, 1e3, 1e4, 1e5, 1e6)
STYLE_WEIGHT = 1e5  # lesson 12, section 5, for fmnist-cnn
NETWORK_STYLE_WEIGHTS = (10.0, 1e5)  # lesson 12 section 6's, and section 5's
TN = dict(width=8, blocks=2, crop=32, n_crops=240, steps=200)  # lesson 12's quick settings


def optimisation_runs(backbone, side: int, steps: int) -> list[dict]:
    from toolkit.fast_style import builtin_photo
    from toolkit.perceptual import perceptual_loss, style_grams, style_loss
    from toolkit.stylize import style_transfer

    cat, style = builtin_photo("chelsea", side), builtin_photo("immunohistochemistry", side)
    with torch.no_grad():
        content_target = backbone(cat, [backbone.content])
        style_target = style_grams(backbone(style, list(backbone.style)))
    rows = []
    for weight in CONTENT_WEIGHTS:
        image = style_transfer(
            cat, style, backbone, steps=steps, content_weight=weight, style_weight=STYLE_WEIGHT
        ).image
        with torch.no_grad():
            rows.append(
                {
                    "content_weight": weight,
                    "content": perceptual_loss(backbone(image, [backbone.content]), content_target).item(),
                    "style": style_loss(backbone(image, list(backbone.style)), style_target).item(),
                    "pixels": (image - cat).pow(2).mean().item(),
                }
            )
        print(f"optimisation {side} px, {steps} steps, content weight {weight:g}: {rows[-1]}", flush=True)
    with torch.no_grad():
        start = {
            "content": 0.0,
            "style": style_loss(backbone(cat, list(backbone.style)), style_target).item(),
            "pixels": 0.0,
        }
    return [{"side": side, "steps": steps, "start": start, "runs": rows}]


def network_runs(backbone, seeds: list[int]) -> list[dict]:
    from toolkit.fast_style import builtin_photo, random_crops, train_transform_net
    from toolkit.models.transform_net import TransformNet

    photos = [builtin_photo(name, 160) for name in ("astronaut", "coffee", "rocket")]
    crops = random_crops(photos, TN["n_crops"], TN["crop"], seed=0)
    style = builtin_photo("immunohistochemistry", 96)
    rows = []
    for weight in NETWORK_STYLE_WEIGHTS:
        for seed in seeds:
            torch.manual_seed(seed)
            net = TransformNet(width=TN["width"], blocks=TN["blocks"])
            history = train_transform_net(
                net, crops, style, backbone, steps=TN["steps"], batch_size=4, lr=3e-3, style_weight=weight
            )
            k = max(1, len(history) // 10)
            first = sum(r["content"] for r in history[:k]) / k
            last = sum(r["content"] for r in history[-k:]) / k
            rows.append({"style_weight": weight, "seed": seed, "content_first": first, "content_last": last})
            print(
                f"network, style weight {weight:g}, seed {seed}: content {first:.4f} -> {last:.4f}",
                flush=True,
            )
    return rows


def table(summary: dict) -> str:
    lines = [
        f"Style transfer on the built-in cat with the micrograph's style, loss network {summary['backbone']} "
        f"(ImageNet VGG was not run), one CPU thread ({summary['machine']}, torch {summary['torch']}).",
        "",
        f"**Optimisation** (Adam on the pixels from the content image, style weight {STYLE_WEIGHT:g}; "
        "deterministic: one run per cell). Content loss / style distance / pixel error against the "
        "photograph "
        "at the end:",
        "",
        "| content weight | "
        + " | ".join(f"{o['steps']} steps at {o['side']} px" for o in summary["optimisation"])
        + " |",
        "| ---: |" + " --- |" * len(summary["optimisation"]),
    ]
    for i, weight in enumerate(CONTENT_WEIGHTS):
        cells = []
        for o in summary["optimisation"]:
            r = o["runs"][i]
            cells.append(f"{r['content']:.4f} / {r['style']:.2e} / {r['pixels']:.4f}")
        lines.append(f"| {weight:g} | " + " | ".join(cells) + " |")
    lines.append(
        "| (the photograph itself) | "
        + " | ".join(f"0 / {o['start']['style']:.2e} / 0" for o in summary["optimisation"])
        + " |"
    )
    lines += [
        "",
        f"**Transformation network** (width {TN['width']}, {TN['blocks']} blocks, {TN['steps']} steps on "
        f"{TN['crop']}-px crops, content weight 1): content loss, mean of the first and of the last tenth "
        "of the steps.",
        "",
        "| style weight | seed | content, first tenth | content, last tenth | fell? |",
        "| ---: | ---: | ---: | ---: | --- |",
    ]
    for r in summary["network"]:
        fell = "yes" if r["content_last"] < r["content_first"] else "no (rose)"
        lines.append(
            f"| {r['style_weight']:g} | {r['seed']} | {r['content_first']:.4f} | {r['content_last']:.4f} "
            f"| {fell} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", default="results/perceptual", help="folder for summary.json, table.md, commands.txt"
    )
    parser.add_argument("--side", type=int, default=48, help="image size of the long optimisation runs")
    parser.add_argument("--long-steps", type=int, default=300, help="steps of the long optimisation runs")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds of the network runs")
    args = parser.parse_args(argv)

    from toolkit.backbones import load_backbone
    from toolkit.runtime import set_threads

    set_threads(1)
    start = time.perf_counter()
    backbone = load_backbone("fmnist-cnn")
    summary = {
        "backbone": backbone.name,
        "style_weight": STYLE_WEIGHT,
        "content_weights": list(CONTENT_WEIGHTS),
        "network_settings": TN,
        "optimisation": optimisation_runs(backbone, 48, 25)
        + optimisation_runs(backbone, args.side, args.long_steps),
        "network": network_runs(backbone, args.seeds),
        "machine": platform.machine(),
        "torch": torch.__version__,
    }
    summary["seconds"] = round(time.perf_counter() - start)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1) + "\n")
    atomic_write_text(out / "table.md", table(summary))
    command = "python " + " ".join(
        shlex.quote(a) for a in [sys.argv[0], *(argv if argv is not None else sys.argv[1:])]
    )
    atomic_write_text(out / "commands.txt", command + "\n")
    print(table(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
