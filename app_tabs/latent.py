"""The second tab: for a generator, latent interpolation (seed to seed, and class to class for conditional
models); for a translator, held-out images translated (and back, for CycleGAN); for an upscaler, held-out
images enlarged beside bicubic with each one's PSNR and detail ratio."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import torch

from toolkit import viz
from toolkit.data.super_resolution import SR_DATASETS
from toolkit.data.translation import TRANSLATION_DATASETS
from toolkit.errors import ToolkitError
from toolkit.families import family_for
from toolkit.families.translation import side_by_side
from toolkit.generate import load_generator
from toolkit.runs import Run

from .reading import readable_here


def title(config: dict) -> str:
    """The tab's name for this run."""
    if config.get("kind") == "translation":
        return "Translate held-out images"
    if config.get("kind") == "super-resolution":
        return "Upscale held-out images"
    return "Latent interpolation"


@st.cache_resource(max_entries=4)
def generator_for(checkpoint: str, mtime: float):
    return load_generator(Path(checkpoint).parent.parent)


@st.cache_resource(max_entries=2)
def translators_for(checkpoint: str, mtime: float) -> dict:
    from toolkit.translate import load_translator
    from toolkit.upscale import load_upscaler

    run_dir = Path(checkpoint).parent.parent
    config = Run(run_dir).config()
    if config.get("kind") == "super-resolution":  # translate refuses these (upscale tiles and limits size)
        return {"a2b": load_upscaler(run_dir)[0]}
    family = family_for(config["model"])
    return {d: load_translator(run_dir, d)[0] for d in family.directions}


@st.cache_resource(max_entries=2)
def held_out_pairs(data: str, paired: bool, limit: int = 64):
    """Test images of a built-in translation set; a folder's own first images (it has no test split)."""
    from toolkit.data.translation import load_translation

    if data in TRANSLATION_DATASETS:
        held = load_translation(data, split="test", limit=limit, paired=paired)
        return held.a[:limit], held.b[:limit], "held-out test images"
    path = Path(str(data)).expanduser().resolve()
    if not readable_here(path):
        raise ToolkitError(f"this run's data ({data}) is outside the runs root and your home; not shown")
    own = load_translation(str(path), limit=limit, paired=paired)
    return own.a[:limit], own.b[:limit], "training images (a folder has no held-out split)"


def translation_view(ckpt: Path, config: dict) -> None:
    """Input -> output (-> back) for 8 fixed inputs, picked with a slider, from the run's checkpoint."""
    try:
        nets = translators_for(str(ckpt), ckpt.stat().st_mtime)
        a, b, where = held_out_pairs(config["data"], config["model"] == "pix2pix")
    except (ToolkitError, OSError, KeyError) as err:
        st.error(str(err))
        return
    c1, c2 = st.columns(2)
    direction = c1.radio("Direction", list(nets), horizontal=True, key="translate_direction")
    inputs, targets = (a, b) if direction == "a2b" else (b, a)
    first = (
        c2.slider("First image", 0, len(inputs) - 8, 0, 8, key="translate_first") if len(inputs) > 8 else 0
    )
    x = inputs[first : first + 8]
    with torch.no_grad():
        out = nets[direction](x)
        columns = [x, out]
        if len(nets) == 2:  # CycleGAN: and back again
            columns.append(nets["b2a" if direction == "a2b" else "a2b"](out))
        elif config["model"] == "pix2pix":
            columns.append(targets[first : first + 8])
    images, nrow = side_by_side(*columns)
    labels = "input | output | " + ("back" if len(nets) == 2 else "target")
    st.image(viz.grid_png(images, nrow=nrow, scale=3), caption=f"{where}, {labels} (eval mode)")


@st.cache_resource(max_entries=2)
def held_out_high(data: str, resolution, scale: int, limit: int = 64):
    """Held-out (low, high) pairs of a super-resolution run's data (a folder: its every 10th image)."""
    from toolkit.data.super_resolution import load_super_resolution

    if data not in SR_DATASETS and not readable_here(Path(str(data)).expanduser().resolve()):
        raise ToolkitError(f"this run's data ({data}) is outside the runs root and your home; not shown")
    held = load_super_resolution(data, split="test", resolution=resolution, scale=scale, limit=limit)
    return held.a[:limit], held.b[:limit]


def super_resolution_view(ckpt: Path, config: dict) -> None:
    """Input | bicubic | output | original for 8 held-out images, with each method's PSNR and SSIM."""
    from toolkit.data.super_resolution import bicubic_upscale
    from toolkit.metrics.image_quality import detail_ratio, psnr

    try:
        G = translators_for(str(ckpt), ckpt.stat().st_mtime)["a2b"]
        low, high = held_out_high(config["data"], config.get("resolution"), int(config["scale"]))
    except (ToolkitError, OSError, KeyError) as err:
        st.error(str(err))
        return
    first = st.slider("First image", 0, len(low) - 8, 0, 8, key="upscale_first") if len(low) > 8 else 0
    x, y = low[first : first + 8], high[first : first + 8]
    s = int(config["scale"])
    with torch.no_grad():
        out = G(x).clamp(-1, 1)
    bicubic = bicubic_upscale(x, s)
    blocky = x.repeat_interleave(s, -1).repeat_interleave(s, -2)
    images, nrow = side_by_side(blocky, bicubic, out, y)
    st.image(viz.grid_png(images, nrow=nrow, scale=3 if y.shape[-1] <= 32 else 1), width="stretch")
    rows = [
        {"method": m, "PSNR (dB)": float(psnr(z, y).mean()), "detail ratio": float(detail_ratio(z, y).mean())}
        for m, z in (("bicubic", bicubic), (config["model"], out))
    ]
    st.caption(
        "held-out input (enlarged) | bicubic | output | original; higher PSNR = closer in pixels, "
        "detail ratio 1 = as much fine detail as the original (lesson 11)"
    )
    st.dataframe(rows, hide_index=True)


def latent_tab(run: Run, config: dict) -> None:
    """The tab: what fits the run's kind, from its last checkpoint."""
    ckpt = run.checkpoint_path()
    if ckpt is None:
        st.info("This run has no checkpoint yet (checkpoints/last.pt); interpolation needs one.")
    elif config.get("kind") == "translation":
        translation_view(ckpt, config)
    elif config.get("kind") == "super-resolution":
        super_resolution_view(ckpt, config)
    elif config.get("kind") != "images":
        st.info("This run generates 2-D points; latent interpolation is shown for image models.")
    else:
        try:
            G, gconfig = generator_for(str(ckpt), ckpt.stat().st_mtime)
        except (ToolkitError, FileNotFoundError) as err:
            st.error(str(err))
        else:
            num_classes = getattr(G, "num_classes", 0)
            names = gconfig.get("class_names") or [str(i) for i in range(num_classes)]
            label = None
            if num_classes:
                label = torch.tensor([names.index(st.selectbox("Class", names, key="latent_class"))])
            c1, c2, c3 = st.columns(3)
            seed_a = c1.number_input("Seed A", 0, 100_000, 1)
            seed_b = c2.number_input("Seed B", 0, 100_000, 2)
            method = c3.radio("Path", ["slerp", "lerp"], horizontal=True)
            t = st.slider("t: from A (0) to B (1)", 0.0, 1.0, 0.5, 0.05)
            n = st.slider("Strip length", 3, 16, 8)
            z0, z1 = (
                viz.latent_from_seed(seed_a, gconfig["z_dim"]),
                viz.latent_from_seed(seed_b, gconfig["z_dim"]),
            )
            fn = viz.slerp if method == "slerp" else viz.lerp
            with torch.no_grad():
                if num_classes:
                    one = G(fn(z0, z1, t)[None], label)
                    strip = G(viz.interpolate(z0, z1, n, method), label.expand(n))
                else:
                    one = G(fn(z0, z1, t)[None])
                    strip = G(viz.interpolate(z0, z1, n, method))
            st.image(
                viz.grid_png(one, scale=8),
                caption=f"t = {t:.2f} (checkpoint at step {gconfig['checkpoint_step']})",
            )
            st.image(
                viz.grid_png(strip, nrow=n, scale=3), caption=f"{n} steps from seed {seed_a} to seed {seed_b}"
            )
            if num_classes:
                st.subheader("Class to class, same latent")
                k1, k2 = st.columns(2)
                class_a = names.index(k1.selectbox("From class", names, index=0, key="class_a"))
                class_b = names.index(
                    k2.selectbox("To class", names, index=min(3, num_classes - 1), key="class_b")
                )
                strip = viz.class_interpolation(G, z0, class_a, class_b, n)
                st.image(
                    viz.grid_png(strip, nrow=n, scale=3),
                    caption=f"seed {seed_a}: label sliding from {names[class_a]} to {names[class_b]}",
                )
