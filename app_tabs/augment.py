"""The "What D sees" tab: real training images and the same images as the run's augmentation (ADA,
DiffAugment, Diffusion-GAN) shows them to D at the checkpoint's p or T."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import torch

from toolkit import viz
from toolkit.errors import ToolkitError
from toolkit.families import family_for
from toolkit.runs import Run

from .reading import real_images, real_images_source


@st.cache_resource(max_entries=2)
def augmentation_for(checkpoint: str, mtime: float):
    """The run's augmentation at its checkpoint's p or T, and a caption saying which."""
    return family_for(Run(Path(checkpoint).parent.parent).config()["model"]).augmentation_at(
        Run(Path(checkpoint).parent.parent)
    )


def augment_tab(run: Run, config: dict) -> None:
    """The tab: real images over what D sees of them, or why there is nothing to show."""
    name = config.get("augment", "none")
    if name == "none" or config.get("kind") != "images":
        st.info(
            "This run shows D its images as they are (no --augment). Runs with --augment ada, diffaugment or "
            "diffusion show here what D sees at the current p or T."
        )
    else:
        try:
            x = real_images(
                config["data"], config.get("resolution"), config.get("limit"), config.get("seed", 0)
            )
            ckpt = run.checkpoint_path()
            aug, what = augmentation_for(str(ckpt), ckpt.stat().st_mtime) if ckpt else (None, None)
        except (ToolkitError, OSError, KeyError) as err:
            st.error(str(err))
        else:
            if aug is None:
                st.info("No checkpoint yet: what D sees appears with the run's first checkpoint.")
            else:
                torch.manual_seed(int(st.number_input("Draw", 0, 1000, 0, key="aug_seed")))
                with torch.no_grad():
                    out = aug(x)
                seen = out[0] if isinstance(out, tuple) else out
                st.image(
                    viz.grid_png(torch.cat([x, seen.clamp(-1, 1)]), nrow=16, scale=3),
                    caption=f"{real_images_source(config)} (top) and what D sees (bottom): {what}",
                )
