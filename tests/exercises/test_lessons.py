"""Every lesson ends with graded exercises, and CI fills in their solutions: for each
`grade(check, stub)` call in a notebook, the check named there (imported in the notebook from
`toolkit.exercises`) accepts the reference solution of the same name from `lessons/solutions/`, and
rejects the stub as it ships ("not attempted").

The per-check tests (tests/exercises/test_*.py) feed each check plausible wrong answers; this file ties the
notebooks to them, so a renamed stub, a check the notebook does not import, or a lesson left without exercises
fails here.
"""

import ast
import importlib
import importlib.util
import json
import re
from pathlib import Path

import pytest

from toolkit.exercises import grade

LESSONS = Path(__file__).resolve().parents[2] / "lessons"
NOTEBOOKS = sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))


def exercises_of(notebook: Path) -> dict:
    """The notebook's stubs (name -> source), grade calls (check name, stub name), the checks it imports
    (name -> module), and whether an open-ended exercise is there."""
    stubs, calls, imports, open_ended = {}, [], {}, False
    for cell in json.loads(notebook.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            open_ended |= "open-ended" in source.lower()
            continue
        if "# YOUR CODE HERE" in source:
            for name in re.findall(r"^(?:def|class) (\w+)", source, re.M):
                stubs[name] = source
        calls += re.findall(r"\bgrade\((\w+), (\w+)\)", source)  # also checks of the lesson's own code
        for node in ast.walk(ast.parse(source.replace("%", "#"))) if "toolkit.exercises" in source else ():
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("toolkit.exercises"):
                imports.update({alias.asname or alias.name: node.module for alias in node.names})
    calls = [(check, stub) for check, stub in calls if stub in stubs]  # the exercises
    return {"stubs": stubs, "calls": calls, "imports": imports, "open_ended": open_ended}


def solutions_of(notebook: Path):
    spec = importlib.util.spec_from_file_location(
        f"solutions_{notebook.stem}", LESSONS / "solutions" / f"{notebook.stem}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_lesson_has_three_graded_exercises_and_an_open_ended_one(notebook):
    found = exercises_of(notebook)
    assert len(found["calls"]) >= 3, (
        f"{notebook.name}: {len(found['calls'])} graded exercises, want at least 3"
    )
    assert found["open_ended"], f"{notebook.name}: no open-ended exercise (predict, then measure)"
    for check, stub in found["calls"]:
        assert stub in found["stubs"], (
            f"{notebook.name}: grade({check}, {stub}) grades no `# YOUR CODE HERE` stub"
        )
        assert check in found["imports"], f"{notebook.name}: {check} is not imported from toolkit.exercises"
        assert "raise NotImplementedError" in found["stubs"][stub], f"{notebook.name}: {stub} ships an answer"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_check_accepts_the_solution_and_calls_the_shipped_stub_not_attempted(notebook, capsys):
    found = exercises_of(notebook)
    solutions = solutions_of(notebook)
    for check_name, stub_name in found["calls"]:
        check = getattr(importlib.import_module(found["imports"][check_name]), check_name)
        assert hasattr(solutions, stub_name), f"lessons/solutions/{notebook.stem}.py has no {stub_name}"
        assert grade(check, getattr(solutions, stub_name)), capsys.readouterr().out

        namespace: dict = {}
        exec(found["stubs"][stub_name], namespace)  # the stub as the learner first sees it
        assert not grade(check, namespace[stub_name])
        assert "not attempted" in capsys.readouterr().out
