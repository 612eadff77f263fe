"""Graded exercises for the lessons.

A lesson gives the learner a stub to fill in (marked ``# YOUR CODE HERE``; it raises
``NotImplementedError`` until then) and a cell that calls :func:`grade` with a *check* from this package.
A check tests the learner's function on cases the learner does not see and raises :class:`WrongAnswer`
with one sentence saying what is wrong. ``grade`` prints the verdict; a stub not yet filled in is "not
attempted", which is not an error, so a lesson runs top to bottom before the exercises are done.

The reference solutions live outside the notebooks, in ``lessons/solutions/`` (``show_solution`` prints
one on request). ``tests/test_exercises.py`` runs every check on its reference solution and on plausible
wrong answers, which each check must reject.

Why not nbgrader or otter-grader: both are built around an instructor's gradebook (generated student
versions, submissions, autograder runs); a self-study learner needs only "is my function right, and if
not, why", in the notebook, offline. A check is a plain function, so it is also trivially testable.
"""

from __future__ import annotations

import contextlib
import inspect
from pathlib import Path
from typing import Callable


class WrongAnswer(AssertionError):
    """Raised by a check, with one sentence for the learner."""


def expect(ok: bool, message: str) -> None:
    """Inside a check: raise :class:`WrongAnswer` with ``message`` unless ``ok``."""
    if not ok:
        raise WrongAnswer(message)


@contextlib.contextmanager
def forbidden(name: str, hint: str):
    """While the learner's function runs, ``torch.<name>`` and ``torch.nn.functional.<name>`` (the library's
    answer to the exercise) raise :class:`WrongAnswer` with ``hint`` instead."""
    import torch
    import torch.nn.functional as F

    saved = (getattr(F, name), getattr(torch, name))

    def refuse(*args, **kwargs):
        raise WrongAnswer(hint)

    setattr(F, name, refuse)
    setattr(torch, name, refuse)
    try:
        yield
    finally:
        setattr(F, name, saved[0])
        setattr(torch, name, saved[1])


def grade(check: Callable[[Callable], None], answer: Callable) -> bool:
    """Run ``check`` on the learner's ``answer`` and print the verdict; True when it passes."""
    name = getattr(answer, "__name__", "your answer")
    try:
        check(answer)
    except NotImplementedError:
        print(f"- {name}: not attempted yet (replace the `raise NotImplementedError` under # YOUR CODE HERE)")
        return False
    except WrongAnswer as wrong:
        print(f"x {name}: {wrong}")
        return False
    print(f"ok {name}: correct")
    return True


SOLUTIONS = Path(__file__).resolve().parents[2] / "lessons" / "solutions"


def show_solution(lesson: str, name: str) -> None:
    """Print the reference solution ``name`` of ``lesson``: ``show_solution("08_pggan", "pixel_norm")``."""
    import importlib.util

    path = SOLUTIONS / f"{lesson}.py"
    spec = importlib.util.spec_from_file_location(f"solutions_{lesson}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print(inspect.getsource(getattr(module, name)))
