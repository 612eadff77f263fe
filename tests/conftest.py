import os

import pytest
import torch

# Tests run side by side with notebooks in CI: one thread each (see toolkit/runtime.py).
os.environ.setdefault("TOOLKIT_THREADS", "1")
torch.set_num_threads(int(os.environ["TOOLKIT_THREADS"]))


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


def fashion_mnist_or_skip():
    """Fashion-MNIST is installed in CI (.ci/run sets TOOLKIT_REQUIRE_DATA=1, so missing data fails
    there instead of skipping)."""
    from toolkit.data import fashion_mnist

    if not fashion_mnist.is_available():
        if os.environ.get("TOOLKIT_REQUIRE_DATA") == "1":
            pytest.fail("Fashion-MNIST is required here: apt-get install dataset-fashion-mnist")
        pytest.skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
