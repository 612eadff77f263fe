"""The "Edit" tab: pick a real image (one of the run's training images, or your own upload, saved under the
run directory), project it into the generator's latent space with a progress bar (``toolkit/projection.py``,
a few steps: the command line's ``project`` does more), then slide along a stored direction
(``toolkit/directions.py``; a button finds one for a chosen attribute) and see before and after live."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from toolkit import viz
from toolkit.errors import ToolkitError
from toolkit.files import atomic_write
from toolkit.runs import DIRECTIONS, Run, direction_path

from .reading import real_images, real_images_source

UPLOADS = "edit"  # the folder of the run directory where uploaded images are kept
SEARCH_SAMPLES = 500  # latents scored when the tab finds a direction (the command line: --n, 2000)


@st.cache_resource(max_entries=2)
def generator_for(checkpoint: str, mtime: float):
    from toolkit.generate import load_generator

    return load_generator(Path(checkpoint).parent.parent)


@st.cache_data(max_entries=4, show_spinner=False)
def training_images(data: str, resolution, limit, seed) -> torch.Tensor:
    """16 of the run's training images (read once per run's data, not on every redraw)."""
    return real_images(data, resolution, limit, seed)


def fit_to_generator(data: bytes, channels: int, size: tuple[int, int]) -> torch.Tensor:
    """An uploaded image as (C, H, W) in [-1, 1], converted to the generator's channels and resized to its
    size (the command line refuses other sizes; here the tab does it for you and says so)."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data)).convert("L" if channels == 1 else "RGB")
    except (UnidentifiedImageError, OSError):
        raise ToolkitError("the upload is not an image PIL can read; give a .png or .jpg") from None
    image = image.resize((size[1], size[0]), Image.LANCZOS)
    pixels = torch.from_numpy(np.array(image, dtype=np.float32)).view(size[0], size[1], -1)
    return pixels.permute(2, 0, 1) / 127.5 - 1


def save_upload(run: Run, name: str, data: bytes) -> Path:
    """Keep an uploaded image under the run directory (``edit/NAME``; only its base name is used)."""
    saved = run.dir / UPLOADS / Path(name).name
    atomic_write(saved, lambda f: f.write(data))
    return saved


def stored_directions(run: Run) -> list[str]:
    folder = run.dir / DIRECTIONS
    return sorted(p.stem for p in folder.glob("*.pt")) if folder.is_dir() else []


def picture(image: torch.Tensor) -> bytes:
    return viz.grid_png(image[None].clamp(-1, 1), nrow=1, scale=6)


def edit_tab(run: Run, config: dict) -> None:
    from toolkit.models import is_conditional
    from toolkit.projection import output_shape

    if config.get("kind") != "images" or config.get("model") in ("pix2pix", "cyclegan", "srresnet", "srgan"):
        st.info("Editing needs a run that generates images from noise (dcgan, cgan, stylegan, ...).")
        return
    ckpt = run.checkpoint_path()
    if ckpt is None:
        st.info("No checkpoint yet: editing opens with the run's first checkpoint.")
        return
    try:
        G, run_config = generator_for(str(ckpt), ckpt.stat().st_mtime)
    except (ToolkitError, OSError) as err:
        st.info(f"The generator cannot be loaded for editing: {err}")
        return
    if not hasattr(G, "z_dim"):  # PGGAN's staged generator: its latent size lives elsewhere
        st.info(
            f"Editing does not handle {config.get('model')} runs yet (it needs a generator with a z input)."
        )
        return
    channels, height, width = output_shape(G)

    source = st.radio("Image", ["From the run's data", "Upload your own"], horizontal=True, key="edit_source")
    target, where = None, ""
    if source == "From the run's data":
        index = int(st.number_input("Training image", 0, 15, 0, key="edit_index"))
        try:
            x = training_images(
                str(config["data"]), config.get("resolution"), config.get("limit"), config.get("seed", 0)
            )
        except (ToolkitError, OSError, KeyError) as err:
            st.info(f"The run's images cannot be shown ({err}); upload your own instead.")
            return
        target = x[index]
        where = f"training image {index}"
        if config.get("data_passed_in"):
            where = f"image {index} of the {real_images_source(config)}"
    else:
        upload = st.file_uploader("Your image (png, jpg)", type=["png", "jpg", "jpeg"], key="edit_upload")
        if upload is not None:
            try:
                target = fit_to_generator(upload.getvalue(), channels, (height, width))
            except ToolkitError as err:
                st.error(str(err))
                return
            saved = save_upload(run, upload.name, upload.getvalue())
            where = f"your {upload.name} (saved as {saved}), resized to {width}x{height}"
    if target is None:
        st.info("Upload an image to edit it.")
        return
    label = None
    if is_conditional(G):
        names = run_config.get("class_names") or [str(i) for i in range(G.num_classes)]
        label = names.index(st.selectbox("The image's class", names, key="edit_class"))
    steps = int(st.slider("Projection steps", 5, 200, 20, key="edit_steps"))
    key = (str(run.dir), where, label)
    if st.button("Project", key="edit_project"):
        from toolkit.projection import project

        bar = st.progress(0.0, text="projecting")

        def progress(step, loss):
            bar.progress((step + 1) / steps, text=f"step {step + 1}/{steps}, loss {loss:.4g}")

        result = project(G, target, steps=steps, label=label, space="z", progress=progress)
        st.session_state["edit_projection"] = (key, result.latent[0], result.losses)
    projection = st.session_state.get("edit_projection")
    if projection is None or projection[0] != key:
        st.image(picture(target), caption=f"{where}: press Project to find its latent")
        return
    _, latent, losses = projection
    st.caption(f"projected in {len(losses)} steps: loss {losses[0]:.4g} -> {losses[-1]:.4g}")
    direction_controls(run, G, run_config, target, latent, label, where)


def direction_controls(run: Run, G, run_config: dict, target, latent, label, where: str) -> None:
    """Find a direction (button), pick a stored one, slide along it; the image before and after."""
    from toolkit.directions import (
        COMPUTED,
        attribute,
        edit,
        fit_direction,
        load_direction,
        sample_and_score,
        save_direction,
    )
    from toolkit.models import is_conditional
    from toolkit.projection import synthesize

    choices = list(COMPUTED)
    if not is_conditional(G):
        choices += list(run_config.get("class_names") or [])
    left, right = st.columns([3, 1])
    wanted = left.selectbox("Attribute to find a direction for", choices, key="edit_attribute")
    if right.button("Find direction", key="edit_find"):
        try:
            with st.spinner(f"scoring {SEARCH_SAMPLES} samples for {wanted}"):
                score = attribute(wanted, run_config.get("class_names"), G)
                z, scores = sample_and_score(G, score, SEARCH_SAMPLES)
                save_direction(run.dir, fit_direction(z, scores, attribute=wanted))
            st.session_state["edit_direction"] = direction_path(run.dir, wanted).stem
        except ToolkitError as err:
            st.error(str(err))
    stored = stored_directions(run)
    if not stored:
        st.info("No direction stored for this run yet: pick an attribute and press Find direction.")
        return
    if st.session_state.get("edit_direction") not in stored:
        st.session_state["edit_direction"] = stored[0]
    name = st.selectbox("Direction", stored, key="edit_direction")
    strength = st.slider("Strength", -6.0, 6.0, 0.0, 0.5, key="edit_strength")
    try:
        direction = load_direction(run.dir, name, z_dim=G.z_dim)
    except ToolkitError as err:
        st.error(str(err))
        return
    y = None if label is None else torch.tensor([label])
    with torch.no_grad():
        projected = synthesize(G, latent[None], "z", y)[0]
        edited = synthesize(G, edit(latent, direction, strength)[None], "z", y)[0]
    cols = st.columns(3)
    cols[0].image(picture(target), caption=f"the real image: {where}")
    cols[1].image(picture(projected), caption="before: G's image of the projected latent")
    cols[2].image(picture(edited), caption=f"after: moved by {strength:+g} along {direction.attribute}")
