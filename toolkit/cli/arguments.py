"""What several commands share: the yes/no flag type, the one-line usage error, the help texts of the
flags that several commands take, and the refusal of a translator or upscaler run where a generator is
needed."""

from __future__ import annotations

import argparse

from ..errors import ToolkitError
from ..runs import Run

OVERWRITE_HELP = "replace files that already exist at --out (each is named); without it none is replaced"
RUN_DIR_HELP = "the run directory (written by train) whose networks are used"
DEVICE_HELP = "cpu (default), cuda, cuda:N or mps"


def on_off(text: str) -> bool:
    """A yes/no flag's value: on/off, true/false, yes/no or 1/0."""
    value = {
        "on": True,
        "true": True,
        "yes": True,
        "1": True,
        "off": False,
        "false": False,
        "no": False,
        "0": False,
    }
    if text.lower() not in value:
        raise argparse.ArgumentTypeError(f"expected on or off, got {text!r}")
    return value[text.lower()]


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (not the usage block plus the error)."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def generator_run_or_refuse(run_dir: str, command: str) -> None:
    """A one-line error when ``run_dir`` holds a translator or an upscaler: they have no generator from noise,
    and the command to use is translate or upscale."""
    try:
        config = Run(run_dir).config()
    except ToolkitError:
        return  # the command's own loading says what is wrong
    use = {"translation": "translate", "super-resolution": "upscale"}.get(config.get("kind"))
    if use:
        raise ToolkitError(
            f"{run_dir} is a {config.get('model')} run, which turns images into images; {command} needs a "
            f"run that generates from noise. Use: python -m toolkit {use} --run-dir {run_dir} --input IMAGES "
            "--out FOLDER"
        )
