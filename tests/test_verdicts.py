"""toolkit.verdicts: held / did not hold / within noise over seeds, by hand."""

import pytest

from toolkit.verdicts import mean_sd, paired_verdict


@pytest.mark.parametrize(
    "differences, word",
    [
        ([1.0, 1.1, 0.9], "held"),  # mean 1.0, sd 0.1: margin 2 * 0.1 / sqrt(3) = 0.115
        ([-1.0, -1.1, -0.9], "did not hold"),
        ([1.0, -1.0, 0.5], "within noise"),  # signs disagree
        ([1.0, 1.0, 100.0], "within noise"),  # one sign, but mean 34 < margin 2 * 57.2 / sqrt(3) = 66
        ([-1.0, -1.0, -100.0], "within noise"),  # the same, the other way
        ([0.0, 1.0, 1.0], "within noise"),  # a seed with no difference is not "> 0"
        ([0.2, 0.3, 0.25], "held"),  # mean 0.25, sd 0.05: margin 0.058
        ([0.1, 0.3, 0.2], "held"),  # mean 0.2, sd 0.1: margin 0.1155 < 0.2
        ([0.01, 0.3, 0.02], "within noise"),  # mean 0.11, sd 0.165: margin 0.19
    ],
)
def test_verdicts_over_seeds(differences, word):
    assert paired_verdict(differences)["verdict"] == word


def test_mean_and_sd_are_the_sample_ones():
    v = paired_verdict([1.0, 2.0, 3.0])
    assert v["mean"] == 2.0 and v["sd"] == 1.0  # sample sd (n - 1)


def test_one_seed_gets_no_verdict():
    assert paired_verdict([3.0]) == {"mean": 3.0, "sd": None, "verdict": "one seed: no verdict"}


def test_no_seeds_is_a_clear_error():
    with pytest.raises(ValueError, match="at least one per-seed difference"):
        paired_verdict([])


def test_mean_sd_text():
    assert mean_sd([1.0, 2.0, 3.0]) == "2.00 ± 1.00"
    assert mean_sd([0.12345], 3) == "0.123"
