import warnings

import numpy as np
import pytest
import torch

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
    ref = fid_ref.calculate_frechet_distance(
        a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)
    )
    assert frechet_distance(a, b) == pytest.approx(ref, rel=1e-6)
    # fewer samples than dimensions: singular covariances (the eigen fallback)
    a, b = rng.normal(size=(40, 60)), rng.normal(0.5, 2.0, size=(50, 60))
    ref = fid_ref.calculate_frechet_distance(
        a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)
    )
    assert frechet_distance(a, b) == pytest.approx(ref, rel=1e-6)


def test_bad_shapes_are_clear():
    with pytest.raises(ToolkitError, match=r"must be an \(N, D\) feature array"):
        frechet_distance(np.zeros(5), np.zeros((5, 2)))
    with pytest.raises(ToolkitError, match="feature dimensions differ"):
        frechet_distance(np.random.rand(5, 2), np.random.rand(5, 3))


# --- KID -------------------------------------------------------------------------------------------
from toolkit.metrics.kid import kernel_inception_distance, mmd2_unbiased, polynomial_kernel  # noqa: E402


def test_kid_equals_torch_fidelity():
    tf_kid = pytest.importorskip("torch_fidelity.metric_kid")
    import torch

    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(600, 32)), rng.normal(0.1, 1.1, size=(500, 32))
    ref = tf_kid.kid_features_to_metric(
        torch.from_numpy(a),
        torch.from_numpy(b),
        kid_subsets=20,
        kid_subset_size=200,
        rng_seed=7,
        verbose=False,
    )
    mean, std = kernel_inception_distance(a, b, subsets=20, subset_size=200, seed=7)
    assert mean == pytest.approx(ref["kernel_inception_distance_mean"], rel=1e-6)
    assert std == pytest.approx(ref["kernel_inception_distance_std"], rel=1e-6)


def test_unbiased_mmd_hand_computed():
    # two 1-D sets of two points, linear kernel k(x, y) = x y
    x, y = np.array([[1.0], [2.0]]), np.array([[0.0], [3.0]])
    kxx, kxy, kyy = x @ x.T, x @ y.T, y @ y.T
    # off-diagonal means: kxx -> (2 + 2) / 2 = 2, kyy -> 0; cross mean over all 4 pairs = (0 + 3 + 0 + 6) / 4
    assert mmd2_unbiased(kxx, kxy, kyy) == pytest.approx(2 + 0 - 2 * 9 / 4)
    assert polynomial_kernel(x, y, degree=3, gamma=1.0, coef0=1.0)[1, 1] == pytest.approx((2 * 3 + 1) ** 3)


def test_kid_is_unbiased_where_fid_is_not():
    """Same distribution, small samples: FID is clearly positive (bias ~ D/n), KID averages to ~0."""
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(100, 16)), rng.normal(size=(100, 16))
    assert frechet_distance(a, b) > 1.0
    mean, _ = kernel_inception_distance(a, b, subsets=50, subset_size=100)
    assert abs(mean) < 0.02


def test_kid_with_fewer_samples_than_the_subset_size_adapts_with_a_warning():
    rng = np.random.default_rng(4)
    with pytest.warns(UserWarning, match="subsets of 50 instead of 1000"):
        kernel_inception_distance(rng.normal(size=(50, 4)), rng.normal(size=(80, 4)), subsets=3)
    with pytest.raises(ToolkitError, match="at least 2 samples"):
        kernel_inception_distance(np.zeros((1, 4)), np.zeros((5, 4)))


def test_kid_defaults_are_torch_fidelitys_and_each_kernel_setting_reaches_the_kernel():
    """Defaults: 100 subsets of 1,000, the cubic kernel (a.b / D + 1)^3, seed 2020 (torch-fidelity's).
    Found by mutation testing: a changed default, or a gamma/coef0 dropped on the way to the kernel, passed
    every test."""
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(7, 6)), rng.normal(size=(9, 6))
    assert np.allclose(polynomial_kernel(x, y), (x @ y.T / 6 + 1) ** 3)
    a, b = rng.normal(size=(1200, 6)), rng.normal(0.2, 1.0, size=(1100, 6))
    explicit = kernel_inception_distance(
        a, b, subsets=100, subset_size=1000, degree=3, gamma=1 / 6, coef0=1.0, seed=2020
    )
    assert kernel_inception_distance(a, b) == pytest.approx(explicit, rel=1e-12)
    assert kernel_inception_distance(a, b, seed=2021) != pytest.approx(explicit, rel=1e-12)
    # one subset holding every sample: KID is the MMD^2 of the whole sets, with the kernel settings given
    k = lambda p, q: (p @ q.T * 0.3 + 0.5) ** 2  # noqa: E731
    want = mmd2_unbiased(k(a[:50], a[:50]), k(a[:50], b[:50]), k(b[:50], b[:50]))
    got, _ = kernel_inception_distance(
        a[:50], b[:50], subsets=1, subset_size=50, degree=2, gamma=0.3, coef0=0.5
    )
    assert got == pytest.approx(want, rel=1e-9)


def test_kid_subset_size_follows_the_smaller_set_and_warns_only_when_it_shrinks():
    rng = np.random.default_rng(6)
    with pytest.warns(UserWarning, match="subsets of 50 instead of 1000"):  # the second set is the smaller
        kernel_inception_distance(rng.normal(size=(80, 4)), rng.normal(size=(50, 4)), subsets=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kernel_inception_distance(
            rng.normal(size=(60, 4)), rng.normal(size=(60, 4)), subsets=2, subset_size=60
        )


def test_kid_errors_name_the_bad_argument():
    good = np.zeros((5, 4))
    with pytest.raises(ToolkitError, match=r"feats_a must be an \(N, D\) feature array"):
        kernel_inception_distance(np.zeros(5), good)
    with pytest.raises(ToolkitError, match=r"feats_b must be an \(N, D\) feature array"):
        kernel_inception_distance(good, np.zeros(5))
    with pytest.raises(ToolkitError, match="feature dimensions differ: 4 vs 3"):
        kernel_inception_distance(good, np.zeros((5, 3)))
    with pytest.raises(ToolkitError, match="subsets must be >= 1, got 0"):
        kernel_inception_distance(good, good, subsets=0)


# --- precision / recall / density / coverage ------------------------------------------------------------
from toolkit.metrics.prdc import density_coverage, prdc, precision_recall  # noqa: E402


def _clusters(n_per, centres, rng, std=0.05):
    return np.concatenate([c + std * rng.normal(size=(n_per, len(c))) for c in centres])


def test_prdc_identical_disjoint_and_half_the_modes():
    rng = np.random.default_rng(5)
    centres = [
        5 * np.array([np.cos(a), np.sin(a)]) for a in np.arange(10) * 2 * np.pi / 10
    ]  # 10 modes in 2-D
    real = _clusters(100, centres, rng, std=0.3)
    same = prdc(real, real)
    assert (same.precision, same.recall, same.coverage) == (1.0, 1.0, 1.0) and same.density >= 1.0
    far = prdc(real, real + 100.0)
    assert (far.precision, far.recall, far.density, far.coverage) == (0.0, 0.0, 0.0, 0.0)
    half = prdc(real, _clusters(200, centres[:5], rng, std=0.3))  # a generator that dropped 5 of 10 modes
    assert half.precision > 0.9  # what it makes looks real ...
    assert 0.4 < half.recall < 0.6 and 0.4 < half.coverage < 0.6  # ... but covers half the data


def test_prdc_equals_the_reference_package():
    ref = pytest.importorskip("prdc")
    rng = np.random.default_rng(6)
    real, fake = rng.normal(size=(300, 8)), rng.normal(0.3, 1.2, size=(250, 8))
    expected = ref.compute_prdc(real_features=real, fake_features=fake, nearest_k=5)
    p, r = precision_recall(real, fake, k=5)
    d, c = density_coverage(real, fake, k=5)
    assert (p, r, d, c) == pytest.approx(
        (expected["precision"], expected["recall"], expected["density"], expected["coverage"]), rel=1e-9
    )


def test_prdc_beyond_one_distance_chunk_and_with_its_own_k_per_pair_equals_the_reference():
    """More samples than one 2,048-row distance chunk, and prdc's k_pr / k_dc each reaching their metric.
    Found by mutation testing: a loop over the first chunk only, or k dropped, passed every test."""
    ref = pytest.importorskip("prdc")
    rng = np.random.default_rng(7)
    real, fake = rng.normal(size=(2100, 3)), rng.normal(0.2, 1.1, size=(2100, 3))
    p, r = precision_recall(real, fake, k=4)
    d, c = density_coverage(real, fake, k=4)
    expected = ref.compute_prdc(real_features=real, fake_features=fake, nearest_k=4)
    assert (p, r, d, c) == pytest.approx(
        (expected["precision"], expected["recall"], expected["density"], expected["coverage"]), rel=1e-9
    )
    small_real, small_fake = real[:200], fake[:200]
    # the papers' k: 3 for precision/recall (Kynkaanniemi et al.), 5 for density/coverage (Naeem et al.)
    assert precision_recall(small_real, small_fake) == precision_recall(small_real, small_fake, k=3)
    assert density_coverage(small_real, small_fake) == density_coverage(small_real, small_fake, k=5)
    assert prdc(small_real, small_fake) == prdc(small_real, small_fake, k_pr=3, k_dc=5)
    both = prdc(small_real, small_fake, k_pr=2, k_dc=7)
    assert (both.precision, both.recall) == precision_recall(small_real, small_fake, k=2)
    assert (both.density, both.coverage) == density_coverage(small_real, small_fake, k=7)
    assert both.as_dict() == {
        "precision": both.precision,
        "recall": both.recall,
        "density": both.density,
        "coverage": both.coverage,
    }


def test_a_point_exactly_on_a_ball_s_edge_counts_as_inside():
    """k-NN balls are closed (distance <= radius), as in the reference implementations."""
    real = np.array([[0.0], [1.0], [3.0]])  # k = 1 radii: 1, 1, 2
    fake = np.array(
        [[5.0], [10.0], [11.0]]
    )  # 5.0 lies exactly on the edge of the ball around 3.0, in no other
    p, _ = precision_recall(real, fake, k=1)
    _, c = density_coverage(real, fake, k=1)
    assert p == pytest.approx(1 / 3) and c == pytest.approx(1 / 3)


def test_metric_inputs_are_read_in_float64_and_errors_name_the_argument():
    import torch

    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(40, 4)), rng.normal(size=(40, 4))
    want = frechet_distance(a, b)
    grad_a = torch.tensor(a, dtype=torch.float32, requires_grad=True)  # a tensor that tracks gradients
    got32 = frechet_distance(grad_a, b.astype(np.float32))
    assert got32 == pytest.approx(
        frechet_distance(a.astype(np.float32).astype(np.float64), b.astype(np.float32)), rel=1e-12
    )
    assert abs(got32 - want) < 1e-4
    assert frechet_distance(a[:2], b[:2]) >= 0  # two samples are enough for a covariance
    with pytest.raises(ToolkitError, match="feature dimensions differ"):
        frechet_distance_from_stats(np.zeros(3), np.eye(4), np.zeros(4), np.eye(4))
    for call, name in [
        (lambda x: precision_recall(x, a), "real_feats"),
        (lambda x: precision_recall(a, x), "fake_feats"),
        (lambda x: density_coverage(x, a), "real_feats"),
        (lambda x: density_coverage(a, x), "fake_feats"),
    ]:
        with pytest.raises(ToolkitError, match=f"{name} must be an"):
            call(np.zeros(4))


def test_precision_recall_with_the_real_radii_given_once():
    """Scoring many fake sets against one real set (lesson 14's truncation sweep) reuses the real radii."""
    from toolkit.metrics.prdc import kth_neighbour_radius

    rng = np.random.default_rng(8)
    real, fake = rng.normal(size=(300, 4)), rng.normal(0.5, 1.0, size=(200, 4))
    radii = kth_neighbour_radius(torch.from_numpy(real), 3)
    assert precision_recall(real, fake, real_radii=radii) == precision_recall(real, fake)
    assert precision_recall(real, fake, real_radii=radii * 0)[0] == 0.0  # the radii given are the ones used
    with pytest.raises(ToolkitError, match="one radius per real sample"):
        precision_recall(real, fake, real_radii=radii[:10])
