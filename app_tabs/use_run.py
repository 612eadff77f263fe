"""What a run that is not training can be used for, as buttons under its header: **Evaluate** (what
``python -m toolkit eval`` does, inline with a spinner; the scores land in evaluations.jsonl, which the live
tab's table shows), **Download samples** (a PNG grid or a .zip of PNGs, made in memory; a class picker for
conditional runs) and, for a conditional run, **Augment a dataset** (``augment-dataset``'s options, into a new
or empty folder checked before any work)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from toolkit.dashboard_files import check_output_folder, sample_download
from toolkit.errors import ToolkitError
from toolkit.runs import Run

from .reading import class_rows, readable_here

SAMPLE_COUNTS = [500, 1000, 2000, 5000]  # generated images scored by Evaluate (the real side: twice as many)


def _ask(key: str, run: Run) -> None:
    """A button's on_click: record the request, for this run, in session state. ``st.button``'s return
    value is True only in the one script run the click starts; if another rerun (the live tab refreshes
    every 2 s) interrupts that run before it reaches the button, the click is lost. A recorded request waits
    for the next run that draws the button."""
    st.session_state[f"{key}_asked"] = str(run.dir)


def asked(key: str, run: Run) -> bool:
    """Whether the button ``key`` was clicked for this run since the request was last taken (and take it)."""
    return st.session_state.pop(f"{key}_asked", None) == str(run.dir)


def evaluate_box(run: Run, config: dict) -> None:
    from toolkit.cli.eval import evaluate_run
    from toolkit.metrics.evaluate import format_scores
    from toolkit.metrics.extractors import EXTRACTORS

    st.caption("FID, KID, precision/recall of the last checkpoint; recorded in evaluations.jsonl")
    features = st.selectbox(
        "Features",
        ["default", *EXTRACTORS],
        key="eval_features",
        help="default: fmnist-cnn for Fashion-MNIST; for other data inception when its weights are on this "
        "machine, else pixels8 (python -m toolkit eval picks the same)",
    )
    n = st.select_slider("Generated images", SAMPLE_COUNTS, value=1000, key="eval_n")
    st.button("Evaluate", key="evaluate", on_click=_ask, args=("evaluate", run))
    if asked("evaluate", run):
        notes: list[str] = []
        try:
            with st.spinner(f"scoring {n} generated images against {2 * n} real ones..."):
                evaluate_run(run.dir, None if features == "default" else features, n, 2 * n, say=notes.append)
        except (ToolkitError, OSError) as err:
            st.error(str(err))
        for note in notes:
            st.caption(note)
    scores = run.evaluations()
    if scores:  # read back from evaluations.jsonl
        last = scores[-1]
        try:
            text = format_scores(last)
        except (KeyError, TypeError, ValueError):  # a row written by hand or by an older toolkit
            text = ", ".join(f"{k} {last[k]}" for k in ("features", "fid", "kid") if k in last)
        st.success(f"step {last['step']}: {text}")


def download_box(run: Run, config: dict) -> None:
    c1, c2 = st.columns(2)
    n = c1.number_input("Images", 1, 1000, 64, key="download_n")
    seed = c2.number_input("Seed", 0, 100_000, 0, key="download_seed", help="the same seed, the same images")
    names = class_rows(config)
    pick = None
    if names:
        chosen = st.selectbox("Class", ["all classes", *names], key="download_class")
        pick = None if chosen == "all classes" else chosen
    as_zip = st.radio("As", ["one PNG grid", "a .zip of PNGs"], horizontal=True, key="download_as") != (
        "one PNG grid"
    )
    wanted = (str(run.dir), int(n), int(seed), pick, as_zip)
    st.button("Make the samples", key="make_samples", on_click=_ask, args=("make_samples", run))
    if asked("make_samples", run):
        try:
            with st.spinner(f"generating {n} images..."):
                st.session_state["samples"] = (
                    wanted,
                    *sample_download(run.dir, int(n), int(seed), pick, as_zip),
                )
        except (ToolkitError, OSError) as err:
            st.error(str(err))
    made = st.session_state.get("samples")
    if made and made[0] == wanted:  # made for these settings of this run
        st.download_button(
            f"Download {made[2]}",
            made[1],
            file_name=made[2],
            mime="application/zip" if as_zip else "image/png",
            key="download_samples",
        )


def augment_box(run: Run, config: dict, root: Path) -> None:
    from toolkit.augment_dataset import augment_dataset

    names = class_rows(config)
    classes = st.multiselect("Classes", names, default=names[:1], key="augment_classes")
    c1, c2 = st.columns(2)
    per_class = c1.number_input("Images per class", 1, 2000, 100, key="augment_per_class")
    how = c2.selectbox(
        "Keep",
        ["none", "discriminator"],
        key="augment_filter",
        help="none: every image drawn; discriminator: the best of 4 by the run's D",
    )
    typed = st.text_input(
        "Output folder (new or empty)", str(root / "augmented" / run.dir.name), key=f"augment_out-{run.dir}"
    )
    out = Path(typed.strip()).expanduser().resolve()
    problem = None
    if not classes:
        problem = "choose one class or more"
    elif not readable_here(out):
        problem = f"{out} is outside your home folder and the runs folder; choose a folder there"
    else:
        try:
            check_output_folder(out, (config.get("data"),))
        except ToolkitError as err:
            problem = str(err)
    if problem:
        st.error(problem)
    st.button(
        "Write the images",
        key="augment_write",
        disabled=problem is not None,
        on_click=_ask,
        args=("augment_write", run),
    )
    if asked("augment_write", run) and problem is None:
        try:
            with st.spinner(f"generating {per_class} images of each of {len(classes)} classes..."):
                counts = augment_dataset(run.dir, list(classes), int(per_class), out, how)
        except (ToolkitError, OSError) as err:
            st.error(str(err))
        else:
            what = ", ".join(f"{k} of {c}" for c, k in counts.items())
            st.success(f"wrote {what} into {out} (one sub-folder per class, and augment.json)")


def use_run(run: Run, config: dict, state: str, root: Path) -> None:
    """The three buttons, for an image generator with a checkpoint and no job training in it."""
    if state in ("running", "paused") or config.get("kind") != "images" or run.checkpoint_path() is None:
        return
    boxes = st.columns(3 if class_rows(config) else 2)
    with boxes[0].expander("Evaluate"):
        evaluate_box(run, config)
    with boxes[1].expander("Download samples"):
        download_box(run, config)
    if class_rows(config):
        with boxes[2].expander("Augment a dataset"):
            augment_box(run, config, root)
