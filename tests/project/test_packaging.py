"""The project's own housekeeping: environment.yml in step with pyproject.toml, notebooks stripped."""

import re
from pathlib import Path

import nbformat
import tomllib

ROOT = Path(__file__).resolve().parents[2]
CONDA_NAMES = {"pytorch": "torch"}  # conda name -> pip name


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_lists_the_same_packages_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_names = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    deps = (ROOT / "environment.yml").read_text().split("dependencies:", 1)[1]
    conda_names = {CONDA_NAMES.get(n, n).lower() for n in re.findall(r"^\s+- ([A-Za-z0-9_.\-]+)", deps, re.M)}
    conda_names -= {"python", "pip"}
    assert conda_names == pip_names


def test_notebooks_are_committed_without_outputs():
    notebooks = sorted((ROOT / "lessons").glob("*.ipynb"))
    assert len(notebooks) >= 2
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, (
                    f"{path.name} has outputs: run `make clean-notebooks`"
                )
        assert "widgets" not in nb.metadata, f"{path.name} stores widget state: run `make clean-notebooks`"


def test_lessons_are_numbered_in_teaching_order():
    names = [p.name for p in sorted((ROOT / "lessons").glob("*.ipynb"))]
    assert names[:7] == [
        "01_vanilla_gan.ipynb",
        "02_dcgan.ipynb",
        "03_evaluating_gans.ipynb",
        "04_conditional_gan.ipynb",
        "05_wgan_gp.ipynb",
        "06_ada.ipynb",
        "07_diffusion_gan.ipynb",
    ]


def test_a_missing_declared_dependency_is_found_so_ci_fails_instead_of_skipping():
    from conftest import missing_declared_dependencies

    text = (ROOT / "pyproject.toml").read_text()
    assert missing_declared_dependencies(text) == []  # everything declared is installed here
    planted = text.replace('"prdc>=0.2",', '"prdc>=0.2",\n    "no-such-package-xyz>=1",')
    assert missing_declared_dependencies(planted) == ["no-such-package-xyz"]
