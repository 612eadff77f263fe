import numpy as np
import pytest

from toolkit.errors import ToolkitError
from toolkit.metrics import frechet_distance, frechet_distance_from_stats


def test_closed_form_for_two_gaussians():
    # diagonal covariances: d^2 = |mu_a - mu_b|^2 + sum (sqrt(a_i) - sqrt(b_i))^2
    mu_a, mu_b = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    var_a, var_b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    expected = 1 + 0 + 4 + (1 - 2) ** 2 + (2 - 1) ** 2 + 0
    got = frechet_distance_from_stats(mu_a, np.diag(var_a), mu_b, np.diag(var_b))
    assert got == pytest.approx(expected, rel=1e-12)


def test_identical_sets_score_zero_and_shifted_sets_score_the_shift():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 16))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(a, a + 3.0) == pytest.approx(16 * 9.0, rel=1e-9)


def test_matches_pytorch_fid():
    fid_ref = pytest.importorskip("pytorch_fid.fid_score")
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(300, 20)), rng.normal(0.2, 1.3, size=(400, 20)) @ rng.normal(size=(20, 20))
    ref = fid_ref.calculate_frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert frechet_distance(a, b) == pytest.approx(ref, rel=1e-6)


def test_bad_shapes_are_clear():
    with pytest.raises(ToolkitError, match=r"must be an \(N, D\) feature array"):
        frechet_distance(np.zeros(5), np.zeros((5, 2)))
    with pytest.raises(ToolkitError, match="feature dimensions differ"):
        frechet_distance(np.random.rand(5, 2), np.random.rand(5, 3))
