"""The run's status line and its controls: pause, resume, stop, continue a finished run, steer a running one,
export a report, delete or rename; and what a job that has not written its config.json yet shows."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from toolkit import jobs
from toolkit.augment import ADA_TARGET
from toolkit.errors import ToolkitError
from toolkit.runs import JOB, Run

from .reading import log_tail


@st.fragment(run_every=1)
def waiting_for_start(run: Run):
    """A job that has not written its config.json yet: look again every second, then show the run."""
    if run.exists() or jobs.job_state(run.dir) not in ("running", "paused"):
        st.rerun()
    st.info("Starting: loading the data and building the networks...")


def _rename(run_dir: Path, root: Path) -> None:
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


def delete_or_rename(run_dir: Path, root: Path) -> None:
    """Delete or rename a run no job is training in (a failed start too: its name is free again)."""
    with st.expander("Delete or rename this run", expanded="manage_error" in st.session_state):
        if "manage_error" in st.session_state:
            st.error(st.session_state.pop("manage_error"))
        c1, c2 = st.columns(2)
        c1.text_input("New name", run_dir.name, key=f"rename_to-{run_dir}")  # one box per run
        c1.button("Rename", key="rename", on_click=_rename, args=(run_dir, root))
        sure = c2.checkbox(f"Yes, delete {run_dir.name} and all its files", key=f"delete_sure-{run_dir}")
        c2.button("Delete", key="delete", disabled=not sure, on_click=_delete, args=(run_dir,))


def config_or_stop(run: Run, root: Path) -> dict:
    """The run's config.json; without one the page says why (the job died, or is still starting) and ends."""
    try:
        return run.config()
    except ToolkitError as err:
        if (run.dir / JOB).exists() and jobs.job_state(run.dir) not in ("running", "paused"):
            st.error("This job ended before training started. The end of its train.log:")
            st.code(log_tail(run.dir, 6) or "(empty)", language=None, wrap_lines=True)  # all of it, wrapped
            delete_or_rename(run.dir, root)
        elif (run.dir / JOB).exists():
            waiting_for_start(run)
        else:
            st.error(str(err))
        st.stop()


def run_controls(run: Run, config: dict, state: str, root: Path) -> None:
    """The status line and the controls that fit the job's ``state``."""
    cols = st.columns([2, 1, 1, 1])
    loss_text = f" · loss {config['loss']}" if "loss" in config else ""
    rates = (
        f" · lr G {config['lr_g']:g}, D {config['lr_d']:g}" if "lr_g" in config and "lr_d" in config else ""
    )
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
    # first below the buttons, whatever the job's state: an expander the user opened keeps its place (and
    # stays open) when the job stops and the expanders below it change
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
                "Download report.html",
                prepared[1],
                file_name=f"{run.dir.name}.html",
                mime="text/html",
                key="dl",
            )

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
        delete_or_rename(run.dir, root)

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
