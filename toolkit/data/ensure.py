"""Make Fashion-MNIST present on this machine: ``python -m toolkit.data.ensure`` (``make setup`` runs it).

In order: use it where it is found (see ``fashion_mnist.candidate_dirs``); else download it with torchvision
into ``~/.cache/torchvision`` when the machine is online; else install the Debian/Ubuntu package
``dataset-fashion-mnist`` when running as root or with password-less sudo; else stop with one line saying
which command to run (exit status 1), so ``make test`` never starts on a machine without the data.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys

from ..errors import ToolkitError
from . import fashion_mnist

ONE_LINE = (
    "Fashion-MNIST is missing and could not be downloaded or installed here: run "
    "`sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or put its four IDX files in a folder "
    "and set TOOLKIT_DATA to it, then `make setup` again"
)


def _privileged_prefix(run=subprocess.run) -> list[str] | None:
    """[] as root, ["sudo", "-n"] with password-less sudo, None otherwise."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return []
    if shutil.which("sudo") and run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    return None


def ensure_fashion_mnist(run=subprocess.run, download=None) -> str:
    """How Fashion-MNIST was made present (a sentence), or a one-line ToolkitError."""
    folder = fashion_mnist.find_folder()
    if folder is not None:
        return f"Fashion-MNIST found in {folder}"
    socket.setdefaulttimeout(20)  # an offline machine must not hang on the download
    if (download or fashion_mnist.download)() is not None:
        return f"Fashion-MNIST downloaded to {fashion_mnist.TORCHVISION_CACHE}"
    prefix = _privileged_prefix(run)
    if prefix is not None and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run([*prefix, "apt-get", "update", "-qq"], env=env, capture_output=True)
        run(
            [*prefix, "apt-get", "install", "-y", "-qq", "dataset-fashion-mnist"],
            env=env,
            capture_output=True,
        )
        if fashion_mnist.find_folder() is not None:
            return "Fashion-MNIST installed from the Debian package dataset-fashion-mnist"
    raise ToolkitError(ONE_LINE)


def main() -> int:
    try:
        print(ensure_fashion_mnist())
    except ToolkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
