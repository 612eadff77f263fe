import os
import subprocess
import sys
import threading
import time

import pytest
import torch
from tqdm.std import tqdm

# Tests run side by side with notebooks in CI: one thread each (see toolkit/runtime.py).
os.environ.setdefault("TOOLKIT_THREADS", "1")
torch.set_num_threads(int(os.environ["TOOLKIT_THREADS"]))

# tqdm's default write lock includes a multiprocessing semaphore, shared by every process forked after it is
# made. Mutation testing forks one child per mutant from the process that ran the tests: a child killed while
# its progress bar held the lock left it held, and every later child hung in tqdm (docs/testing.md). A thread
# lock belongs to one process.
tqdm.set_lock(threading.RLock())


# A tiny, fast training command line and the environment for child processes, shared by the CLI tests.
TINY = [
    "--model",
    "dcgan",
    "--data",
    "digits",
    "--batch-size",
    "16",
    "--width",
    "8",
    "--z-dim",
    "16",
    "--no-progress",
    "--device",
    "cpu",
]
CHILD_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "TOOLKIT_THREADS": "1", "PYTHONUNBUFFERED": "1"}


# pip name -> import name, where they differ
IMPORT_NAMES = {
    "pillow": "PIL",
    "scikit-learn": "sklearn",
    "scikit-image": "skimage",
    "pytest-xdist": "xdist",
    "pytorch-fid": "pytorch_fid",
    "torch-fidelity": "torch_fidelity",
    "pytest-timeout": "pytest_timeout",
}


def missing_declared_dependencies(pyproject_text: str) -> list[str]:
    """The declared dependencies (runtime and dev) that cannot be imported here."""
    import importlib.util
    import re

    import tomllib

    project = tomllib.loads(pyproject_text)["project"]
    names = [
        re.split(r"[<>=!~ \[]", r.strip(), maxsplit=1)[0].lower()
        for r in project["dependencies"] + project["optional-dependencies"]["dev"]
    ]
    return [n for n in names if importlib.util.find_spec(IMPORT_NAMES.get(n, n).replace("-", "_")) is None]


def pytest_sessionstart(session):
    """In CI a declared dependency that is missing fails the run; it never turns tests into skips."""
    if os.environ.get("CI") == "true" or os.environ.get("TOOLKIT_REQUIRE_DATA") == "1":
        from pathlib import Path

        missing = missing_declared_dependencies((Path(__file__).parents[1] / "pyproject.toml").read_text())
        if missing:
            pytest.exit(f"declared dependencies missing: {', '.join(missing)} (pip install -e '.[dev]')", 3)


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass (a deadline, never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def start_training(*args: str, **popen_kwargs) -> subprocess.Popen:
    """``python -m toolkit train ARGS`` as a background child process (output discarded unless asked for)."""
    popen_kwargs = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, **popen_kwargs}
    return subprocess.Popen([sys.executable, "-m", "toolkit", "train", *args], env=CHILD_ENV, **popen_kwargs)


def fashion_mnist_or_skip():
    """Fashion-MNIST is installed in CI (.ci/run sets TOOLKIT_REQUIRE_DATA=1, so missing data fails
    there instead of skipping)."""
    from toolkit.data import fashion_mnist

    if not fashion_mnist.is_available():
        if os.environ.get("TOOLKIT_REQUIRE_DATA") == "1":
            pytest.fail("Fashion-MNIST is required here: apt-get install dataset-fashion-mnist")
        pytest.skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")


def phase_fields(phase) -> tuple:
    """A family's Phase as (name, optimizer, nets, needs_batch, run, after), to compare with one tuple."""
    return (phase.name, phase.optimizer, phase.nets, phase.needs_batch, phase.run, phase.after)


def pytest_terminal_summary(terminalreporter):
    """After `make test`: seconds per lesson in quick mode. The budget is 150 s a lesson on a 2-core machine
    with nothing else running; `make test` runs two workers at once, so these are upper bounds on that."""
    seconds: dict[str, float] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            path = getattr(report, "nodeid", "").split("::", 1)[0]
            if path.endswith(".ipynb"):  # each cell's setup, call and teardown
                seconds[path] = seconds.get(path, 0.0) + getattr(report, "duration", 0.0)
    if seconds:
        terminalreporter.section("seconds per lesson (quick mode; 2 test workers share the machine)")
        for path, total in sorted(seconds.items()):
            terminalreporter.write_line(f"{total:7.1f} s  {path}")
