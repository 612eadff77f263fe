"""The verdict rule of experiments/stylegan_measurements.py: held / did not hold / within noise."""

import pytest

from . import load_experiment

measurements = load_experiment("stylegan_measurements")


@pytest.mark.parametrize(
    "differences, word",
    [
        ([1.0, 1.1, 0.9], "held"),  # mean 1.0, sd 0.1: margin 2 * 0.1 / sqrt(3) = 0.115
        ([-1.0, -1.1, -0.9], "did not hold"),
        ([1.0, -1.0, 0.5], "within noise"),  # signs disagree
        ([1.0, 1.0, 100.0], "within noise"),  # one sign, but mean 34 < margin 2 * 57.2 / sqrt(3) = 66
    ],
)
def test_verdicts_over_seeds(differences, word):
    assert measurements.verdict(differences)["verdict"] == word


def test_one_seed_gets_no_verdict():
    assert measurements.verdict([3.0]) == {"mean": 3.0, "sd": None, "verdict": "one seed: no verdict"}
