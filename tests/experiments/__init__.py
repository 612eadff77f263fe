"""Tests of the experiment scripts in experiments/ (scripts, not a package: loaded by file path)."""

import importlib.util
import sys
from pathlib import Path


def load_experiment(name: str):
    """experiments/<name>.py as a module."""
    folder = Path(__file__).resolve().parents[2] / "experiments"
    if str(folder) not in sys.path:  # as when run as a script: experiments import each other by name
        sys.path.insert(0, str(folder))
    path = folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
