"""The sidebar's "Start a new run" form: model, data (built-in, or your own folder or .zip, typed as a path
or uploaded, checked as you type it), resolution, steps, batch, learning rates and the model's own choices;
Start launches a background job (``toolkit.jobs``) and says at once when it ends before training."""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path

import streamlit as st
import torch

from toolkit import jobs, viz
from toolkit.augment import AUGMENTS
from toolkit.config import flag
from toolkit.dashboard import check_own_data, estimate_seconds, form_defaults
from toolkit.dashboard_files import UPLOADS, save_upload
from toolkit.data import fashion_mnist
from toolkit.errors import ToolkitError
from toolkit.families import MODELS, config_for, family_for
from toolkit.families.base import IMAGE_SET
from toolkit.losses import LOSSES
from toolkit.runs import CONFIG, list_runs

from .reading import log_tail, readable_here


@st.cache_data(max_entries=8, show_spinner="checking the images...")
def own_data_check(path: str, model: str, resolution: int | None, changed: float) -> dict:
    """toolkit.dashboard.check_own_data, once per folder, model and resolution (again when it changes)."""
    return check_own_data(Path(path), model, resolution)


@st.cache_data(max_entries=4)
def own_data_preview(path: str, resolution: int, changed: float) -> bytes:
    from toolkit.data.folder import preview_images

    return viz.grid_png(preview_images(path, resolution), nrow=8, scale=max(1, 96 // resolution))


def _save_upload(root: Path) -> None:
    """The uploader's callback (it runs before the widgets): the zip is saved under the runs folder, and its
    path is then checked and used as a typed path is."""
    uploaded = st.session_state.get("upload_zip")
    st.session_state.pop("upload_path", None)
    if uploaded is None:  # the upload was removed from the box (the saved copy stays on disk)
        return
    try:
        saved = save_upload(uploaded.getvalue(), uploaded.name, root)
    except (ToolkitError, OSError) as err:
        st.session_state["upload_error"] = str(err)
    else:
        st.session_state["upload_path"] = str(saved)


def default_data() -> tuple[str, str]:
    """The built-in default: a Fashion-MNIST DCGAN, or the 2-D ring when Fashion-MNIST is missing."""
    return ("dcgan", "fashion-mnist") if fashion_mnist.is_available() else ("mlp", "ring")


def start_form(root: Path, runs: list) -> list:
    """The form, in the sidebar; returns the runs under ``root``, listed again when one was started."""
    with st.sidebar.expander(
        "Start a new run", expanded=not runs or st.session_state.get("form_open", False)
    ):
        model0, data0 = default_data()
        model = st.selectbox("Model", list(MODELS), index=list(MODELS).index(model0))
        preset = config_for(model)  # the model's paper settings (e.g. wgan-gp: Wasserstein loss, lr 2e-4)
        family = family_for(model)
        image_set = family.trains_on == IMAGE_SET  # else two domains, or images shrunk to make the inputs
        data_table = family.datasets  # pix2pix needs pairs (the unpaired sets stay listed: it says so)
        if not image_set:  # the family's own default data
            data0 = preset.data
        data_names = list(data_table)
        # a zip in the upload box (saved by _save_upload) is the data while it is there, else a typed path
        uploaded = st.session_state.get("upload_path") if st.session_state.get("upload_zip") else None
        typed = uploaded or st.session_state.get("own_data", "").strip()
        if typed:  # your own images below replace the built-in sets: the box names them
            st.selectbox("Data", [typed], disabled=True, help="your own images, named below")
            data = data0
        else:
            data = st.selectbox(
                "Data",
                data_names,
                index=data_names.index(data0),
                help="; ".join(f"{k}: {v}" for k, v in data_table.items()),
            )
        layout = (
            "flat for unconditional models; one sub-folder per class for cgan/acgan; sub-folders A/ and B/ "
            "for pix2pix (files paired by name) and cyclegan; any images for srresnet/srgan"
        )
        own = st.text_input(
            "...or your own images (a folder or .zip path)",
            key="own_data",
            help=layout,
            disabled=bool(uploaded),  # the uploaded zip is used; removing it (x) frees the box
        )
        st.file_uploader(
            "...or upload a .zip of them",
            type=["zip"],
            key="upload_zip",
            on_change=_save_upload,
            args=(root,),
            help=f"kept as {root / UPLOADS}/NAME.zip and checked like a typed path; {layout}",
        )
        if "upload_error" in st.session_state:
            st.error(st.session_state.pop("upload_error"))
        if uploaded:
            own = uploaded
            st.caption(f"uploaded: kept as {uploaded}")
        resolution = st.select_slider(
            "Resolution",
            ["default", 16, 32, 64, 128],
            value="default",
            help="images are centre-cropped and resized to it; default: the dataset's own (folders: 64). "
            "On a CPU prefer 32 (a quarter of 64's pixels)",
        )
        size = None if resolution == "default" else int(resolution)
        own_problem = None
        if own.strip():
            path = Path(own.strip()).expanduser().resolve()
            if not readable_here(path):
                own_problem = f"{path} is outside your home folder and the runs folder; copy the images there"
            elif not path.exists():
                own_problem = f"{path} does not exist; check the path"
            else:
                found = own_data_check(str(path), model, size, path.stat().st_mtime)
                own_problem = found["problem"]
            if own_problem:
                st.error(own_problem)
            else:
                data = str(path)
                st.caption(f"{found['summary']} → as the model sees them:")
                with contextlib.suppress(ToolkitError, OSError):
                    st.image(own_data_preview(str(path), size or 64, path.stat().st_mtime))
                for note in found["notes"]:
                    st.caption(note)
        defaults = form_defaults(model)  # the model's own, as python -m toolkit train uses them
        steps = st.slider("Steps", 50, 5000, min(defaults["steps"], 5000), step=50)
        batches = [4, 8, 16, 32, 64, 128, 256]
        batch_default = defaults["batch_size"]
        if own.strip() and not own_problem and image_set:  # a small folder: the largest batch it holds
            fits = [b for b in batches if b <= max(found["images"], 4) and b <= batch_default]
            batch_default = max(fits or [4])
        batch = st.select_slider("Batch size", batches, value=batch_default)
        if own.strip() and not own_problem and image_set and found["images"] < batch:
            own_problem = (
                f"batch size {batch} is more than the {found['images']} readable images: choose a smaller one"
            )
            st.error(own_problem)
        lrs = [5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3]
        settings = {"model": model, "data": data, "steps": steps, "batch_size": batch}
        for rate, label in (("lr_g", "Generator learning rate"), ("lr_d", "Discriminator learning rate")):
            if hasattr(preset, rate):  # a family may name its rates otherwise (then it trains at its own)
                settings[rate] = st.select_slider(label, lrs, value=getattr(preset, rate))
        if resolution != "default":
            settings["resolution"] = resolution
        if hasattr(preset, "loss"):  # the gan family's choices; other families bring their own objective
            settings["loss"] = st.selectbox("Loss", list(LOSSES), index=list(LOSSES).index(preset.loss))
        if model in family.presets:
            st.caption("preset: " + ", ".join(f"{k} {v}" for k, v in family.presets[model].items()))
        if hasattr(preset, "augment"):
            settings["augment"] = st.selectbox(
                "What D sees (augmentation)",
                list(AUGMENTS),
                help="; ".join(f"{k}: {v}" for k, v in AUGMENTS.items()),
            )
        limit = st.select_slider(
            "Training images",
            ["all", 200, 500, 1000, 2000, 5000, 10000],
            value="all",
            help="a seeded, class-balanced subset: little data makes D overfit (lessons 06-07)",
        )
        settings["seed"] = st.number_input("Seed", 0, 10_000, 0)
        st.session_state.setdefault("run_name", f"run-{time.strftime('%m%d-%H%M%S')}")
        name = st.text_input("Run name", key="run_name")
        seconds = estimate_seconds(
            model, steps, batch, size or (64 if own.strip() else None), settings.get("augment", "none")
        )
        if seconds is None:
            st.caption(
                "time: no measurement of this model in results/bench/ (the live tab shows it once running)"
            )
        elif torch.cuda.is_available():
            st.caption(
                f"time: about {viz.duration(seconds)} on a 2-core CPU (the bench); much less on this GPU"
            )
        else:
            st.caption(f"time: about {viz.duration(seconds)} on a 2-core CPU (scaled from results/bench/)")
            if seconds > 1800:
                st.warning("Over half an hour on a CPU: a lower resolution or fewer steps makes it minutes.")
        if st.button("Start training", type="primary", disabled=own_problem is not None):
            st.session_state["form_open"] = (
                True  # the panel stays open after this click (a refusal reads here)
            )
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
                st.error("A run name uses letters, digits, '-', '_' and '.', and no '/'.")
            elif (root / name).exists():
                st.error(f"{root / name} exists already; choose another name.")
            else:
                settings.update(log_every=10, sample_every=50, checkpoint_every=100)
                if limit != "all":
                    settings.update(
                        limit=limit, **({"gap_every": 50} if hasattr(preset, "gap_every") else {})
                    )
                if model == "mlp" and data in ("ring", "grid"):
                    settings.update(z_dim=2, width=64)
                args = [part for k, v in settings.items() for part in (flag(k), str(v))]
                try:
                    jobs.start_job(root / name, args)
                except ToolkitError as err:
                    st.error(str(err))
                else:
                    st.session_state["run"] = name  # switch to it, also when it failed: its page shows why
                    with st.spinner("starting..."):  # a bad setting ends the job within seconds: say so here
                        deadline = time.time() + 20  # a busy machine takes seconds to import torch
                        while time.time() < deadline and jobs.job_state(root / name) == "running":
                            if (root / name / CONFIG).exists():  # settings and data accepted
                                break
                            time.sleep(0.25)
                    if jobs.job_state(root / name) in ("crashed", "idle"):
                        st.error(f"{name} stopped at once: {log_tail(root / name, 1) or 'see its train.log'}")
                    else:
                        st.session_state["form_open"] = False
                        st.success(f"started {name}")
                    runs = list_runs(root)
    return runs
