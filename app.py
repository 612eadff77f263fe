"""The GAN lessons dashboard: start and steer training runs, watch them live, walk the latent space.

    streamlit run app.py            (make app)

Follows every run directory under the runs root: ``$TOOLKIT_RUNS_DIR``, else ``runs/`` of this
checkout (changeable in the sidebar) - runs started here, from a notebook, or from
``python -m toolkit train``. Uses only the toolkit's public API.
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path

import streamlit as st
import torch

from toolkit import jobs, viz
from toolkit.alarms import run_alarms
from toolkit.augment import ADA_TARGET, AUGMENTS
from toolkit.config import flag
from toolkit.dashboard import (
    MetricsTail,
    add_change_markers,
    check_own_data,
    estimate_seconds,
    form_defaults,
    label_grid_rows,
)
from toolkit.data import DATASETS, fashion_mnist
from toolkit.data.super_resolution import SR_DATASETS
from toolkit.data.translation import TRANSLATION_DATASETS
from toolkit.errors import ToolkitError
from toolkit.families import MODELS, config_for, family_for
from toolkit.families.translation import TranslationFamily, side_by_side
from toolkit.generate import load_generator
from toolkit.losses import LOSSES
from toolkit.runs import CONFIG, JOB, LAST_CHECKPOINT, METRICS, TRAIN_LOG, Run, default_runs_root, list_runs

torch.set_num_threads(1)  # training jobs run beside us: stay light


def training_runs() -> None:
    """The runs page: drawn by the rest of this file (below), after the navigation."""


# the sidebar's page names (without this Streamlit lists this page under its file name, "app")
nav_page = st.navigation(
    [
        st.Page(training_runs, title="Training runs", icon="📈", default=True),
        st.Page("pages/GAN_playground.py", title="2-D playground", icon="🎯", url_path="GAN_playground"),
    ]
)
if nav_page.title != "Training runs":
    nav_page.run()
    st.stop()
st.set_page_config(page_title="GAN lessons dashboard", layout="wide")

LIVE_CHARTS = [  # (title, keys) - a chart appears when its keys are in the run's metrics
    ("Losses", ["loss_d", "loss_g", "loss_d_a", "loss_d_b"]),
    ("pix2pix: L1 to the target, G's adversarial term", ["loss_l1", "loss_g_gan"]),
    ("CycleGAN: cycle and identity losses", ["loss_cycle", "loss_identity"]),
    (
        "Super-resolution: pixel and content losses, G's adversarial term",
        ["loss_pixel", "loss_content", "loss_g_gan"],
    ),
    ("Super-resolution: PSNR of the batch (dB)", ["psnr"]),
    ("Discriminator accuracy", ["d_real_acc", "d_fake_acc"]),
    ("r_t = E[sign D(real)] and ADA p", ["d_real_sign", "ada_p"]),
    ("Overfitting: D on training vs held-out reals", ["d_train", "d_heldout", "d_gap"]),
    ("WGAN critic: W estimate and gradient norm", ["w_estimate", "grad_norm"]),
    ("ACGAN: D's class accuracy on reals", ["class_acc_real"]),
    ("FID", ["fid"]),
    ("KID", ["kid"]),
    ("Diffusion-GAN T", ["diffusion_t"]),
    ("PGGAN fade-in", ["alpha", "resolution"]),
]


def readable_here(path: Path) -> bool:
    """Whether the dashboard may read ``path`` (resolved): only under the runs root or the user's home."""
    return any(base == path or base in path.parents for base in (ALLOWED_ROOT, Path.home().resolve()))


@st.cache_data(max_entries=8, show_spinner="checking the images...")
def own_data_check(path: str, model: str, resolution: int | None, changed: float) -> dict:
    """toolkit.dashboard.check_own_data, once per folder, model and resolution (again when it changes)."""
    return check_own_data(Path(path), model, resolution)


@st.cache_data(max_entries=4)
def own_data_preview(path: str, resolution: int, changed: float) -> bytes:
    from toolkit.data.folder import preview_images

    return viz.grid_png(preview_images(path, resolution), nrow=8, scale=max(1, 96 // resolution))


def log_tail(run_dir: Path, lines: int = 3) -> str:
    """The last lines of a job's train.log (where a job that died at once says why)."""
    try:
        text = (run_dir / TRAIN_LOG).read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def default_data() -> tuple[str, str]:
    """The built-in default: a Fashion-MNIST DCGAN, or the 2-D ring when Fashion-MNIST is missing."""
    return ("dcgan", "fashion-mnist") if fashion_mnist.is_available() else ("mlp", "ring")


# --- sidebar: where runs live, starting a run ----------------------------------------------------
st.sidebar.title("GAN dashboard")
# The dashboard acts only on runs under its runs root ($TOOLKIT_RUNS_DIR or this checkout's runs/): the box
# may pick a folder inside it, never one elsewhere on disk.
ALLOWED_ROOT = default_runs_root().resolve()
root = Path(st.sidebar.text_input("Runs folder", str(ALLOWED_ROOT))).expanduser().resolve()
if root != ALLOWED_ROOT and ALLOWED_ROOT not in root.parents:
    st.sidebar.error(
        f"The dashboard only follows runs under {ALLOWED_ROOT} (set TOOLKIT_RUNS_DIR to change it)."
    )
    root = ALLOWED_ROOT
runs = list_runs(root)

with st.sidebar.expander("Start a new run", expanded=not runs or st.session_state.get("form_open", False)):
    model0, data0 = default_data()
    model = st.selectbox("Model", list(MODELS), index=list(MODELS).index(model0))
    preset = config_for(model)  # the model's paper settings (e.g. wgan-gp: Wasserstein loss, lr 2e-4)
    translation = issubclass(family_for(model), TranslationFamily)  # pix2pix, cyclegan, srresnet/srgan
    if family_for(model).name == "srgan":  # one set of images, shrunk to make the inputs
        data_table, data0 = SR_DATASETS, preset.data
    elif translation:  # two-domain data; pix2pix needs pairs (the unpaired sets stay listed: it says so)
        data_table, data0 = TRANSLATION_DATASETS, preset.data
    else:
        data_table = DATASETS
    data_names = list(data_table)
    typed = st.session_state.get("own_data", "").strip()
    data = st.selectbox(
        "Data",
        data_names,
        index=data_names.index(data0),
        help="; ".join(f"{k}: {v}" for k, v in data_table.items()),
        disabled=bool(typed),  # your own images below replace it
    )
    own = st.text_input(
        "...or your own images (a folder or .zip path)",
        key="own_data",
        help="flat for unconditional models; one sub-folder per class for cgan/acgan; sub-folders A/ and B/ "
        "for pix2pix (files paired by name) and cyclegan; any images for srresnet/srgan",
    )
    resolution = st.select_slider(
        "Resolution",
        ["default", 16, 32, 64, 128],
        value="default",
        help="images are centre-cropped and resized to it; default: the dataset's own (folders: 64). On a "
        "CPU prefer 32 (a quarter of 64's pixels)",
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
    if own.strip() and not own_problem and not translation:  # a small folder: the largest batch it holds
        fits = [b for b in batches if b <= max(found["images"], 4) and b <= batch_default]
        batch_default = max(fits or [4])
    batch = st.select_slider("Batch size", batches, value=batch_default)
    if own.strip() and not own_problem and not translation and found["images"] < batch:
        own_problem = (
            f"batch size {batch} is more than the {found['images']} readable images: choose a smaller one"
        )
        st.error(own_problem)
    lrs = [5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3]
    lr_g = st.select_slider("Generator learning rate", lrs, value=preset.lr_g)
    lr_d = st.select_slider("Discriminator learning rate", lrs, value=preset.lr_d)
    settings = {"model": model, "data": data, "steps": steps, "batch_size": batch, "lr_g": lr_g, "lr_d": lr_d}
    if resolution != "default":
        settings["resolution"] = resolution
    if hasattr(preset, "loss"):  # the gan family's choices; other families bring their own objective
        settings["loss"] = st.selectbox("Loss", list(LOSSES), index=list(LOSSES).index(preset.loss))
    if model in family_for(model).presets:
        st.caption("preset: " + ", ".join(f"{k} {v}" for k, v in family_for(model).presets[model].items()))
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
        st.caption(f"time: about {viz.duration(seconds)} on a 2-core CPU (the bench); much less on this GPU")
    else:
        st.caption(f"time: about {viz.duration(seconds)} on a 2-core CPU (scaled from results/bench/)")
        if seconds > 1800:
            st.warning("Over half an hour on a CPU: a lower resolution or fewer steps makes it minutes.")
    if st.button("Start training", type="primary", disabled=own_problem is not None):
        st.session_state["form_open"] = True  # the panel stays open after this click (a refusal reads here)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
            st.error("A run name uses letters, digits, '-', '_' and '.', and no '/'.")
        elif (root / name).exists():
            st.error(f"{root / name} exists already; choose another name.")
        else:
            settings.update(log_every=10, sample_every=50, checkpoint_every=100)
            if limit != "all":
                settings.update(limit=limit, **({} if translation else {"gap_every": 50}))
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

if not runs:
    st.title("GAN dashboard")
    st.info(
        f"No runs yet in {root}. Start one with **Start training** in the sidebar, or from a terminal: "
        f"`python -m toolkit train --run-dir {root}/demo`."
    )
    st.stop()

names = RUN_NAMES = [str(r.dir.relative_to(root)) for r in runs]
if st.session_state.get("run") not in names:
    st.session_state["run"] = names[0]
selected = st.sidebar.selectbox("Run", names, key="run")
run = Run(root / selected)
if root.resolve() not in (root / selected).resolve().parents:  # only runs under the root
    st.error("That run is outside the runs folder.")
    st.stop()

# --- the run: status and controls ---------------------------------------------------------------
st.title(selected)
if not run.exists() and not (run.dir / JOB).exists():
    st.warning(f"{run.dir} was deleted or is not a run directory any more.")
    st.stop()


@st.fragment(run_every=1)
def waiting_for_start():
    """A job that has not written its config.json yet: look again every second, then show the run."""
    if run.exists() or jobs.job_state(run.dir) not in ("running", "paused"):
        st.rerun()
    st.info("Starting: loading the data and building the networks...")


def _rename(run_dir: Path) -> None:
    """Button callbacks run before the widgets: they may switch the "Run" box to the renamed run."""
    try:
        new = jobs.rename_run(run_dir, st.session_state[f"rename_to-{run_dir}"].strip())
    except ToolkitError as err:
        st.session_state["manage_error"] = str(err)
    else:
        st.session_state["run"] = str(new.relative_to(root))


def _delete(run_dir: Path) -> None:
    try:
        jobs.delete_run(run_dir)
    except ToolkitError as err:
        st.session_state["manage_error"] = str(err)
    else:
        st.session_state.pop("run", None)


def delete_or_rename(run_dir: Path) -> None:
    """Delete or rename a run no job is training in (a failed start too: its name is free again)."""
    with st.expander("Delete or rename this run", expanded="manage_error" in st.session_state):
        if "manage_error" in st.session_state:
            st.error(st.session_state.pop("manage_error"))
        c1, c2 = st.columns(2)
        c1.text_input("New name", run_dir.name, key=f"rename_to-{run_dir}")  # one box per run
        c1.button("Rename", key="rename", on_click=_rename, args=(run_dir,))
        sure = c2.checkbox(f"Yes, delete {run_dir.name} and all its files", key=f"delete_sure-{run_dir}")
        c2.button("Delete", key="delete", disabled=not sure, on_click=_delete, args=(run_dir,))


try:
    config = run.config()
except ToolkitError as err:
    if (run.dir / JOB).exists() and jobs.job_state(run.dir) not in ("running", "paused"):
        st.error("This job ended before training started. The end of its train.log:")
        st.code(log_tail(run.dir, 6) or "(empty)", language=None, wrap_lines=True)  # all of it, wrapped
        delete_or_rename(run.dir)
    elif (run.dir / JOB).exists():
        waiting_for_start()
    else:
        st.error(str(err))
    st.stop()


def job_signature(run_dir: Path) -> tuple:
    """What the page was drawn from: the job's state, when config.json and the checkpoint last changed."""

    def changed(path: Path) -> float | None:
        try:
            return path.stat().st_mtime
        except OSError:
            return None

    return (
        jobs.job_state(run_dir),
        changed(run_dir / "config.json"),
        changed(run_dir / LAST_CHECKPOINT),
    )


SEEN = job_signature(run.dir)  # the live view redraws the page when this changes
state = SEEN[0]
cols = st.columns([2, 1, 1, 1])
loss_text = f" · loss {config['loss']}" if "loss" in config else ""
rates = f" · lr G {config['lr_g']:g}, D {config['lr_d']:g}" if "lr_g" in config and "lr_d" in config else ""
cols[0].markdown(
    f"**{config.get('model')}** on **{config.get('data')}** · {config.get('steps')} steps · "
    f"batch {config.get('batch_size')}{loss_text}{rates} · job: **{state}**"
)
if state == "running" and cols[1].button("Pause"):
    jobs.pause_job(run.dir)
    st.rerun()
if state == "paused" and cols[1].button("Resume"):
    jobs.resume_job(run.dir)
    st.rerun()
if state in ("running", "paused") and cols[2].button("Stop"):
    jobs.stop_job(run.dir)
    st.rerun()
if state in ("stopped", "finished", "crashed", "diverged") and run.checkpoint_path():
    with st.expander("Continue this run"):
        k1, k2, k3 = st.columns(3)
        extra = k1.number_input("More steps", 50, 100_000, 1000, 50, key="continue_steps")
        rates_now = [float(config.get("lr_g", 1e-3)), float(config.get("lr_d", 1e-3))]
        choices = sorted({5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, *rates_now})
        new_rates = [
            k2.select_slider("lr_g from now on", choices, value=rates_now[0], key="continue_g"),
            k3.select_slider("lr_d from now on", choices, value=rates_now[1], key="continue_d"),
        ]
        if st.button("Continue", key="continue"):
            done = int(Run(run.dir).load_checkpoint()["step"])
            args = ["--resume", "--steps", str(done + int(extra))]
            if "lr_g" in config:  # a changed rate is applied on resume and recorded as a "changed" event
                args += ["--lr-g", str(new_rates[0]), "--lr-d", str(new_rates[1])]
            try:
                jobs.start_job(run.dir, args)
            except ToolkitError as err:
                st.error(str(err))
            else:
                st.rerun()

if state not in ("running", "paused"):
    delete_or_rename(run.dir)

with st.expander("Export a report"):
    st.caption(
        "the run as one HTML file (settings, curves, sample grids, scores, events) that opens anywhere"
    )
    if st.button("Prepare the report", key="prepare_report"):
        from toolkit.report import run_report

        st.session_state["report_html"] = (str(run.dir), run_report(run.dir).encode())
    prepared = st.session_state.get("report_html")
    if prepared and prepared[0] == str(run.dir):
        st.download_button(
            "Download report.html", prepared[1], file_name=f"{run.dir.name}.html", mime="text/html", key="dl"
        )

if state in ("running", "paused"):
    with st.expander("Steer the running job"):
        c1, c2, c3 = st.columns(3)
        lrs = sorted(
            {
                5e-5,
                1e-4,
                2e-4,
                5e-4,
                1e-3,
                2e-3,
                float(config.get("lr_g", 1e-3)),
                float(config.get("lr_d", 1e-3)),
            }
        )
        new_g = c1.select_slider("lr_g", lrs, value=float(config.get("lr_g", 1e-3)), key="steer_g")
        new_d = c2.select_slider("lr_d", lrs, value=float(config.get("lr_d", 1e-3)), key="steer_d")
        target = None
        if config.get("augment") in ("ada", "diffusion"):
            target = st.slider(
                "target r_t for ADA's p / Diffusion-GAN's T",
                0.0,
                1.0,
                float(config.get("ada_target", ADA_TARGET)),
                0.05,
                key="steer_target",
            )
        if c3.button("Apply"):
            settings = {
                "lr_g": new_g,
                "lr_d": new_d,
                **({"ada_target": target} if target is not None else {}),
            }
            jobs.steer(run.dir, **settings)
            st.success("sent: applied at the job's next logging step and recorded in events.jsonl")

TRANSLATION_RUN = config.get("kind") == "translation"
SUPER_RESOLUTION_RUN = config.get("kind") == "super-resolution"
live_tab, latent_tab, augment_tab, compare_tab = st.tabs(
    [
        "Live training",
        "Translate held-out images"
        if TRANSLATION_RUN
        else "Upscale held-out images"
        if SUPER_RESOLUTION_RUN
        else "Latent interpolation",
        "What D sees",
        "Compare runs",
    ]
)


# --- live views ------------------------------------------------------------------------------------
@st.cache_resource(max_entries=2)
def real_images(data: str, resolution, limit, seed, n: int = 16):
    """``n`` of the run's training images. config.json is a file anyone could edit, so its values are checked
    before use: a built-in dataset, or a folder/zip inside the runs root or the user's home."""
    from toolkit.data import load_dataset

    if data not in DATASETS:
        path = Path(str(data)).expanduser().resolve()
        if not readable_here(path):
            raise ToolkitError(f"this run's data ({data}) is outside the runs root and your home; not shown")
    if not (resolution is None or (isinstance(resolution, int) and 1 <= resolution <= 1024)):
        raise ToolkitError(f"this run's config.json has an invalid resolution ({resolution!r})")
    if not (limit is None or (isinstance(limit, int) and limit >= 1)) or not isinstance(seed, int):
        raise ToolkitError("this run's config.json has an invalid limit or seed")
    return load_dataset(data, resolution=resolution, limit=limit, seed=seed).x[:n]


def class_rows(run_config: dict) -> list[str]:
    """A conditional run's class names (its grids have one row per class), else []."""
    from toolkit.models import CONDITIONAL

    names = run_config.get("class_names") or []
    return names if run_config.get("model") in CONDITIONAL and isinstance(names, list) else []


def grid_image(run_config: dict, path: Path):
    """A sample grid to show: a conditional run's with its rows labelled by class name."""
    names = class_rows(run_config)
    return label_grid_rows(path, [str(n) for n in names]) if names else str(path)


@st.cache_resource(max_entries=16)
def metrics_tail(path: str) -> MetricsTail:
    """One incremental reader per run (a refresh parses only new lines; see toolkit/dashboard.py)."""
    return MetricsTail(path)


@st.fragment(run_every=2)
def live_view():
    tail = metrics_tail(str(run.dir / METRICS)).refresh()
    if not tail.count:
        st.info("No metrics logged yet: the first row appears after --log-every steps.")
        return
    if job_signature(run.dir) != SEEN:  # finished, stopped, steered, a new checkpoint: redraw the whole page
        st.rerun(scope="app")
    last = tail.last
    live_config = run.config()  # re-read: steering and Continue change it
    p = tail.progress(int(live_config.get("steps", 0)), int(live_config.get("batch_size", 1)))
    speed = f" · {p['images_per_s']:.0f} images/s" if p["images_per_s"] else ""
    left = p["seconds_left"]
    eta = "" if left is None or p["step"] >= p["total"] else f" · about {viz.duration(left)} left"
    if state == "paused":
        eta = " · paused"
    st.progress(min(1.0, p["step"] / max(1, p["total"])))
    st.caption(f"step {p['step']:,} / {p['total']:,}{speed}{eta} · {last['time']:.0f} s of training")
    changes = [e for e in run.events() if e.get("event") == "changed" and isinstance(e.get("step"), int)]
    found = run_alarms(list(tail.recent))
    ckpt = run.checkpoint_path()
    if (
        ckpt is not None
        and live_config.get("kind") == "images"
        and live_config.get("family") in ("gan", "pggan")
    ):
        try:
            collapsed = collapse_alarm(str(ckpt), ckpt.stat().st_mtime)
        except (ToolkitError, OSError, RuntimeError, KeyError):
            collapsed = None  # a checkpoint being replaced, or one that does not load: no banner
        if collapsed is not None:
            found.append(collapsed)
    for a in found:
        st.warning(f"**{a.kind}**: {a.message}. Try: {a.advice}.", icon="⚠️")
    charts = [(t, k) for t, k in LIVE_CHARTS if any(key in tail.columns for key in k)]
    left, right = st.columns([3, 2])
    with left:
        for title, keys in charts:
            fig = viz.series_figure({k: tail.series(k) for k in keys if k in tail.columns}, title)
            # steered or changed on resume: marked where it took effect, close labels stacked
            add_change_markers(fig, changes, p["total"], background="rgba(255,255,255,0.7)")
            if "d_real_sign" in keys and config.get("augment") in ("ada", "diffusion"):
                # re-read: it can be steered during the run
                target = run.config().get("ada_target", ADA_TARGET)
                fig.add_hline(y=target, line_dash="dot", annotation_text=f"target r_t {target:g}")
            st.plotly_chart(fig, width="stretch", key=f"chart-{title}")
    with right:
        grids = run.sample_grids()
        if grids:
            step, path = grids[-1]
            what = {
                "pix2pix": "rows of held-out input | output | target",
                "cyclegan": "rows of held-out input | translated | translated back (A rows, then B rows)",
                "srresnet": "rows of held-out input (enlarged) | bicubic | output | original",
                "srgan": "rows of held-out input (enlarged) | bicubic | output | original",
            }.get(config.get("model"), "the same latent vectors every time")
            if class_rows(config):
                what = "one row per class, the same 8 latent vectors in every row"
            st.image(grid_image(config, path), caption=f"samples at step {step} ({what})", width="stretch")
        else:
            st.info("No sample grid yet.")
        events = run.events()
        if events:
            shown = events if len(events) <= 6 else [events[0], *events[-5:]]  # "started" stays in view
            st.caption("events: " + " · ".join(f"{e['event']} @ {e.get('step', '?')}" for e in shown))
        scores = run.evaluations()
        if scores:
            columns = ["step", "features", "fid", "kid", "precision", "recall", "n_fake", "n_real"]
            st.caption("scores (python -m toolkit eval --run-dir RUN)")
            st.dataframe([{k: r.get(k) for k in columns if k in r} for r in scores[-8:]], hide_index=True)


@st.cache_resource(max_entries=4)
def collapse_alarm(checkpoint: str, mtime: float):
    """The mode-collapse check on 256 samples of the checkpoint's generator (once per checkpoint)."""
    from toolkit.alarms import collapse
    from toolkit.generate import generate

    G, gconfig = load_generator(Path(checkpoint).parent.parent)
    fake = generate(G, 256, gconfig["z_dim"], seed=0)
    real = real_images(
        gconfig["data"], gconfig.get("resolution"), gconfig.get("limit"), gconfig.get("seed", 0), 256
    )
    probs = None
    if gconfig["data"] == "fashion-mnist" and fake.shape[1:] == (1, 32, 32):
        from toolkit.metrics.fmnist_cnn import load_fmnist_cnn

        with torch.no_grad():
            probs = load_fmnist_cnn()(fake).softmax(1)
    return collapse(fake, real[: len(fake)], probs)


with live_tab:
    live_view()


# --- latent interpolation -------------------------------------------------------------------------------
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


def translation_view(ckpt: Path) -> None:
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


def super_resolution_view(ckpt: Path) -> None:
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


with latent_tab:
    ckpt = run.checkpoint_path()
    if ckpt is None:
        st.info("This run has no checkpoint yet (checkpoints/last.pt); interpolation needs one.")
    elif TRANSLATION_RUN:
        translation_view(ckpt)
    elif SUPER_RESOLUTION_RUN:
        super_resolution_view(ckpt)
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


# --- what the discriminator sees ------------------------------------------------------------------------
@st.cache_resource(max_entries=2)
def augmentation_for(checkpoint: str, mtime: float):
    """The run's augmentation at its checkpoint's p or T, and a caption saying which."""
    return family_for(Run(Path(checkpoint).parent.parent).config()["model"]).augmentation_at(
        Run(Path(checkpoint).parent.parent)
    )


with augment_tab:
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
                    caption=f"real training images (top) and what D sees (bottom): {what}",
                )


# --- comparing runs ---------------------------------------------------------------------------------------
with compare_tab:
    picked = st.multiselect("Runs", RUN_NAMES, default=[selected], key="compare_runs")
    tails = {n: metrics_tail(str(root / n / METRICS)).refresh() for n in picked}
    keys = sorted({k for t in tails.values() for k in t.columns if k != "time"})
    if len(picked) < 2 or not keys:
        st.info("Pick two or more runs that have logged metrics to overlay their curves and grids.")
    else:
        c1, c2 = st.columns([2, 1])
        default_key = next(
            (k for k in ("fid", "loss_d", "loss_g", "loss_l1", "loss_cycle") if k in keys), keys[0]
        )
        key = c1.selectbox("Metric", keys, index=keys.index(default_key), key="compare_key")
        x_axis = c2.radio("Against", ["step", "seconds of training"], horizontal=True, key="compare_x")
        series = {}
        for n, t in tails.items():
            if key not in t.columns:
                continue
            steps, values = t.series(key)
            if x_axis == "step":
                series[n] = (steps, values)
            else:  # the time column is logged on every row: look each step's time up
                seconds = dict(zip(*t.columns["time"]))
                series[n] = ([seconds.get(s) for s in steps], values)
        fig = viz.series_figure(series, f"{key} of {len(series)} runs", key)
        fig.update_xaxes(title_text=x_axis)
        st.plotly_chart(fig, width="stretch", key="compare_chart")
        last = min(int(t.last.get("step", 0)) for t in tails.values())
        at_step = st.slider("Sample grids at step", 0, max(1, last), max(1, last), key="compare_step")
        grid_cols = st.columns(len(picked))
        for col, n in zip(grid_cols, picked):
            found = Run(root / n).grid_at(at_step)
            if found is None:
                col.caption(f"{n}: no grid at or before step {at_step}")
            else:
                col.image(grid_image(Run(root / n).config(), found[1]), caption=f"{n} at step {found[0]}")
