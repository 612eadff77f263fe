"""A fresh machine without Fashion-MNIST: `make setup` finds, downloads or installs it, or stops with one
line; a lesson started without it stops in its first cell with the line that says how to get it."""

import json
import subprocess
from pathlib import Path

import pytest

from toolkit.data import ensure, fashion_mnist
from toolkit.errors import ToolkitError

LESSONS = sorted((Path(__file__).resolve().parents[2] / "lessons").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """A machine where Fashion-MNIST is nowhere: every place the toolkit looks is an empty folder, offline."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("TOOLKIT_DATA", str(empty))
    monkeypatch.setattr(fashion_mnist, "candidate_dirs", lambda: [empty])
    monkeypatch.setattr(fashion_mnist, "_download", lambda: None)
    return empty


def test_without_data_and_without_root_setup_stops_with_one_line(no_data, monkeypatch, capsys):
    monkeypatch.setattr(ensure.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(ensure.shutil, "which", lambda name: None)  # no sudo, no apt-get
    with pytest.raises(ToolkitError, match="sudo apt-get install dataset-fashion-mnist"):
        ensure.ensure_fashion_mnist()
    assert ensure.main() == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Fashion-MNIST is missing") and err.count("\n") == 1


def test_as_root_setup_installs_the_debian_package(no_data, monkeypatch):
    calls = []

    def fake_apt(cmd, **kwargs):  # "installs" the four IDX files where the toolkit looks
        calls.append(cmd)
        if cmd[-1] == "dataset-fashion-mnist":
            for pair in fashion_mnist.FILES.values():
                for stem in pair:
                    (no_data / stem).write_bytes(b"")
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(ensure.os, "geteuid", lambda: 0)
    monkeypatch.setattr(ensure.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert "installed from the Debian package" in ensure.ensure_fashion_mnist(run=fake_apt)
    assert [c[:2] for c in calls] == [["apt-get", "update"], ["apt-get", "install"]]


def test_where_the_data_is_setup_just_says_so():
    if not fashion_mnist.is_available():
        pytest.skip("Fashion-MNIST is not installed here")
    assert ensure.ensure_fashion_mnist().startswith("Fashion-MNIST found in")


# Lesson 12 works on the built-in photographs with the toolkit's shipped network: it needs no dataset.
NEEDS_NO_DATASET = {"12_perceptual_loss.ipynb"}


def first_code_cell(lesson, monkeypatch):
    import os

    nb = json.loads((LESSONS[0].parent / lesson).read_text())
    monkeypatch.chdir(LESSONS[0].parent)
    os.environ.setdefault("TOOLKIT_QUICK", "1")
    return compile(
        next("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"), lesson, "exec"
    )


@pytest.mark.parametrize("lesson", [p.name for p in LESSONS if p.name not in NEEDS_NO_DATASET])
def test_a_lesson_without_the_data_stops_in_its_first_cell_saying_how_to_get_it(no_data, lesson, monkeypatch):
    with pytest.raises(ToolkitError, match="Fashion-MNIST not found: run `make setup`"):
        exec(first_code_cell(lesson, monkeypatch), {})


@pytest.mark.parametrize("lesson", sorted(NEEDS_NO_DATASET))
def test_a_lesson_that_needs_no_dataset_starts_without_one(no_data, lesson, monkeypatch):
    exec(first_code_cell(lesson, monkeypatch), {})
