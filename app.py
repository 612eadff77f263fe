"""The GAN lessons dashboard: start and steer training runs, watch them live, walk the latent space.

    streamlit run app.py            (make app)

Follows every run directory under the runs root: ``$TOOLKIT_RUNS_DIR``, else ``runs/`` of this
checkout (changeable in the sidebar) - runs started here, from a notebook, or from
``python -m toolkit train``. Uses only the toolkit's public API.

This file draws the page: the sidebar (runs folder, start form, run picker), the run's header and controls,
and the tab list. The parts are in ``app_tabs/``: ``start_form.py``, ``run_controls.py``, ``use_run.py``
(a finished run's Evaluate, Download samples and Augment a dataset), one module per tab (``live.py``,
``latent.py``, ``augment.py``, ``compare.py``, and ``style_mixing.py``, a tab only the families that
declare it get: ``Family.dashboard_views``), and ``reading.py``, what they read.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import torch

from app_tabs.augment import augment_tab
from app_tabs.compare import compare_tab
from app_tabs.edit import edit_tab
from app_tabs.latent import latent_tab, title
from app_tabs.live import live_view
from app_tabs.reading import allowed_root, job_signature
from app_tabs.run_controls import config_or_stop, run_controls
from app_tabs.start_form import start_form
from app_tabs.style_mixing import style_mixing_tab
from app_tabs.use_run import use_run
from toolkit.dashboard import views_of_run
from toolkit.families.base import STYLE_MIXING_VIEW
from toolkit.runs import JOB, Run, list_runs

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

# --- sidebar: where runs live, starting a run ----------------------------------------------------
st.sidebar.title("GAN dashboard")
# The dashboard acts only on runs under its runs root ($TOOLKIT_RUNS_DIR or this checkout's runs/): the box
# may pick a folder inside it, never one elsewhere on disk.
ALLOWED_ROOT = allowed_root()
root = Path(st.sidebar.text_input("Runs folder", str(ALLOWED_ROOT))).expanduser().resolve()
if root != ALLOWED_ROOT and ALLOWED_ROOT not in root.parents:
    st.sidebar.error(
        f"The dashboard only follows runs under {ALLOWED_ROOT} (set TOOLKIT_RUNS_DIR to change it)."
    )
    root = ALLOWED_ROOT
runs = start_form(root, list_runs(root))

if not runs:
    st.title("GAN dashboard")
    st.info(
        f"No runs yet in {root}. Start one with **Start training** in the sidebar, or from a terminal: "
        f"`python -m toolkit train --run-dir {root}/demo`."
    )
    st.stop()

names = [str(r.dir.relative_to(root)) for r in runs]
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
config = config_or_stop(run, root)
SEEN = job_signature(run.dir)  # the live view redraws the page when this changes
state = SEEN[0]
run_controls(run, config, state, root)
use_run(run, config, state, root)  # Evaluate, Download samples, Augment a dataset

# --- the tabs --------------------------------------------------------------------------------------------
# the tabs a family may declare (Family.dashboard_views, names from DASHBOARD_VIEWS), and what draws each
DECLARED_VIEWS = {STYLE_MIXING_VIEW: style_mixing_tab}
views = views_of_run(config)
live, latent, augment, compare, edit, *declared = st.tabs(
    ["Live training", title(config), "What D sees", "Compare runs", "Edit", *views]
)
with live:
    live_view(run, config, state, SEEN)
with latent:
    latent_tab(run, config)
with augment:
    augment_tab(run, config)
with compare:
    compare_tab(root, names, selected)
with edit:
    edit_tab(run, config)
for view, tab in zip(views, declared):
    with tab:
        DECLARED_VIEWS[view](run, config)
