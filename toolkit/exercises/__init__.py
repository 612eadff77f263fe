"""Graded exercises for the lessons.

A lesson gives the learner a stub to fill in (marked ``# YOUR CODE HERE``; it raises
``NotImplementedError`` until then) and a cell that calls :func:`grade` with a *check* from this package.
A check tests the learner's function on cases the learner does not see and raises :class:`WrongAnswer`
with one sentence saying what is wrong. ``grade`` prints the verdict; a stub not yet filled in is "not
attempted", which is not an error, so a lesson runs top to bottom before the exercises are done.

The reference solutions live outside the notebooks, in ``lessons/solutions/`` (``show_solution`` prints
one on request). ``tests/exercises/test_exercises.py`` runs every check on its reference solution and on
plausible wrong answers, which each check must reject: among them the toolkit's own function and the lesson's
by-hand cell. A check refuses the first with :func:`refuses` (the toolkit's function, or the torch one, raises
:class:`WrongAnswer` while the learner's function runs); the second it rejects because each exercise asks for
something the lesson did not just show.

Why not nbgrader or otter-grader: both are built around an instructor's gradebook (generated student
versions, submissions, autograder runs); a self-study learner needs only "is my function right, and if
not, why", in the notebook, offline. A check is a plain function, so it is also trivially testable.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from pathlib import Path
from typing import Callable


class WrongAnswer(AssertionError):
    """Raised by a check, with one sentence for the learner."""


def expect(ok: bool, message: str) -> None:
    """Inside a check: raise :class:`WrongAnswer` with ``message`` unless ``ok``."""
    if not ok:
        raise WrongAnswer(message)


def _refusing_code(hint: str):
    """A code object that raises WrongAnswer(hint), to put in place of a Python function's own code. It
    names the exception through ``__import__`` because it runs with the refused function's globals."""
    source = (
        "def refuse(*args, **kwargs):\n"
        f"    raise __import__('toolkit.exercises').exercises.WrongAnswer({hint!r})\n"
    )
    namespace: dict = {}
    exec(compile(source, "<refused by the exercise check>", "exec"), namespace)
    return namespace["refuse"].__code__


@contextlib.contextmanager
def forbidden(*answers, hint: str):
    """While the learner's function runs, each of ``answers`` (the library's answer to the exercise) raises
    :class:`WrongAnswer` with ``hint``, one sentence saying what to write instead.

    An answer is a Python function, the toolkit's own (``toolkit.metrics.frechet_distance_from_stats``), or
    the name of a torch function (``"pixel_shuffle"``: found in ``torch``, ``torch.nn.functional`` and
    ``torch.Tensor``; the ``nn`` modules call these). A Python function's *code* is swapped for the
    duration, so it is refused however the learner reached it, also when imported by name
    (``from toolkit.metrics import frechet_distance_from_stats`` binds the function object itself); a
    builtin torch function (written in C) is swapped where it is found, so one imported by name before the
    check runs is not refused (``refuses`` catches only the builtin itself handed in as the answer)."""
    import torch
    import torch.nn.functional as F

    def refuse(*args, **kwargs):
        raise WrongAnswer(hint)

    functions, attributes = [], []  # code to swap, (owner, name, builtin) attributes to swap
    for answer in answers:
        if not isinstance(answer, str):
            functions.append(inspect.unwrap(answer))  # a decorated function: its inner function does the work
            continue
        owners = [owner for owner in (torch, F, torch.Tensor) if hasattr(owner, answer)]
        if not owners:
            raise ValueError(f"forbidden(): torch has no function {answer!r}")
        for owner in owners:
            function = getattr(owner, answer)
            if inspect.isfunction(function) and not function.__closure__:
                functions.append(function)  # a Python function: refused also where imported by name
            else:
                attributes.append((owner, answer, function))
    saved_code = {function: function.__code__ for function in functions}
    for function in saved_code:
        if function.__closure__:
            raise ValueError(f"forbidden() cannot refuse {function.__qualname__}: it is a closure")
    refusing_code = _refusing_code(hint)
    try:
        for owner, name, _ in attributes:
            setattr(owner, name, refuse)
        for function in saved_code:
            function.__code__ = refusing_code
        yield
    finally:
        for owner, name, saved in attributes:
            setattr(owner, name, saved)
        for function, saved in saved_code.items():
            function.__code__ = saved


def refuses(*answers, hint: str):
    """Decorator for a check: every call of the learner's function runs under ``forbidden(*answers,
    hint=hint)``, while the check itself may still use the toolkit's function for the expected values.
    The check keeps both as ``check.refused`` and ``check.hint`` (``tests/exercises/test_exercises.py`` reads
    them)."""

    import torch.nn.functional as F

    def decorate(check):
        @functools.wraps(check)
        def refusing_check(answer):
            if any(answer is getattr(F, name, None) for name in answers if isinstance(name, str)):
                raise WrongAnswer(hint)  # the builtin torch function itself, handed in as the answer

            @functools.wraps(answer)
            def guarded(*args, **kwargs):
                with forbidden(*answers, hint=hint):
                    return answer(*args, **kwargs)

            return check(guarded)

        refusing_check.refused, refusing_check.hint = answers, hint
        return refusing_check

    return decorate


class Grade:
    """What :func:`grade` returns: true when the answer passed. A notebook shows nothing for it (the printed
    line already says the verdict), where a plain ``False`` would be echoed under every check cell."""

    def __init__(self, passed: bool):
        self.passed = passed

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"Grade(passed={self.passed})"

    def _ipython_display_(self) -> None:
        pass


def grade(check: Callable[[Callable], None], answer: Callable) -> Grade:
    """Run ``check`` on the learner's ``answer`` and print the verdict; the result is true when it passes."""
    name = getattr(answer, "__name__", "your answer")
    try:
        check(answer)
    except NotImplementedError:
        print(f"- {name}: not attempted yet (replace the `raise NotImplementedError` under # YOUR CODE HERE)")
        return Grade(False)
    except WrongAnswer as wrong:
        print(f"x {name}: {wrong}")
        return Grade(False)
    print(f"ok {name}: correct")
    return Grade(True)


SOLUTIONS = Path(__file__).resolve().parents[2] / "lessons" / "solutions"


def show_solution(lesson: str, name: str) -> None:
    """Print the reference solution ``name`` of ``lesson``: ``show_solution("08_pggan", "pixel_norm")``."""
    import importlib.util

    path = SOLUTIONS / f"{lesson}.py"
    spec = importlib.util.spec_from_file_location(f"solutions_{lesson}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print(inspect.getsource(getattr(module, name)))
