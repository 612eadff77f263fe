"""Property-based tests (hypothesis): laws that must hold for *any* input, not just the hand-picked ones.

- each adversarial loss equals its closed form (computed in float64 from sigmoid and log) over random
  logits, and stays finite for logits far beyond where log(sigmoid) underflows;
- the gradient penalty and R1 of a linear critic, whose gradient is the same everywhere, have closed forms;
- ADA's controller keeps p in [0, 1] and moves it by exactly one step; augmentation at p = 0 is the identity
  for any image, and at p = 1 x-flip and rotate90 return one of their own images, never a blend;
- FID is symmetric, zero between a set and itself, invariant to a shift or rotation of both sets, and a
  shift v of one set adds exactly |v|^2; KID does not depend on the order of the samples; precision of
  (real, fake) is recall of (fake, real);
- a run split at any step and resumed ends bit-for-bit where the uninterrupted run ends.

In CI (CI=true) examples are drawn deterministically, so a failure reproduces; locally they vary from run
to run. No deadline: a slow, loaded machine is not a failure.
"""

import math
import os

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from toolkit import losses
from toolkit.augment import AdaptiveAugment, ada_adjust
from toolkit.metrics.fid import frechet_distance
from toolkit.metrics.kid import kernel_inception_distance
from toolkit.metrics.prdc import precision_recall
from toolkit.regularizers import gradient_penalty, r1_penalty
from toolkit.training import TrainConfig, Trainer

settings.register_profile(
    "toolkit",
    deadline=None,
    database=None,
    derandomize=os.environ.get("CI") == "true",
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("toolkit")

logit_lists = st.lists(st.floats(-30, 30, allow_nan=False), min_size=1, max_size=32)


def t64(values):
    return torch.tensor(values, dtype=torch.float64)


def log_d(x: torch.Tensor) -> torch.Tensor:  # log D = log sigmoid(x): fine in float64 for |x| <= 30
    return torch.log(torch.sigmoid(x))


def log_one_minus_d(x: torch.Tensor) -> torch.Tensor:  # log(1 - D), with 1 - sigmoid(x) = sigmoid(-x): no
    return torch.log(torch.sigmoid(-x))  # cancellation (1 - sigmoid(20) in float64 keeps only 7 digits)


# --- losses -------------------------------------------------------------------------------------------
@given(real=logit_lists, fake=logit_lists)
def test_bce_d_loss_is_minus_log_d_real_minus_log_one_minus_d_fake(real, fake):
    r, f = t64(real), t64(fake)
    want = -log_d(r).mean() - log_one_minus_d(f).mean()
    assert losses.bce_d_loss(r, f).item() == pytest.approx(want.item(), rel=1e-9, abs=1e-12)


@given(fake=logit_lists)
def test_generator_losses_are_their_closed_forms(fake):
    f = t64(fake)
    assert losses.nonsaturating_g_loss(f).item() == pytest.approx(
        -log_d(f).mean().item(), rel=1e-9, abs=1e-12
    )
    assert losses.minimax_g_loss(f).item() == pytest.approx(
        log_one_minus_d(f).mean().item(), rel=1e-9, abs=1e-12
    )
    assert losses.hinge_g_loss(f).item() == pytest.approx(-f.mean().item(), abs=1e-12)
    assert losses.wasserstein_g_loss(f).item() == pytest.approx(-f.mean().item(), abs=1e-12)
    assert losses.lsgan_g_loss(f).item() == pytest.approx(((f - 1) ** 2).mean().item(), rel=1e-12)


@given(real=logit_lists, fake=logit_lists)
def test_critic_losses_are_their_closed_forms(real, fake):
    r, f = t64(real), t64(fake)
    hinge = torch.clamp(1 - r, min=0).mean() + torch.clamp(1 + f, min=0).mean()
    assert losses.hinge_d_loss(r, f).item() == pytest.approx(hinge.item(), rel=1e-12, abs=1e-12)
    assert losses.wasserstein_d_loss(r, f).item() == pytest.approx((f.mean() - r.mean()).item(), abs=1e-12)
    assert losses.lsgan_d_loss(r, f).item() == pytest.approx(
        (((r - 1) ** 2).mean() + (f**2).mean()).item(), rel=1e-12
    )


@given(st.lists(st.floats(-1e4, 1e4, allow_nan=False, width=32), min_size=1, max_size=16))
def test_logit_losses_stay_finite_and_keep_a_gradient_where_log_sigmoid_underflows(logits):
    x = torch.tensor(logits, dtype=torch.float32, requires_grad=True)
    for loss in (losses.bce_d_loss(x, x), losses.nonsaturating_g_loss(x), losses.minimax_g_loss(x)):
        (grad,) = torch.autograd.grad(loss, x)
        assert torch.isfinite(loss) and torch.isfinite(grad).all()
    # the non-saturating loss never saturates: its gradient on a rejected fake is about -1 / n, not 0
    (grad,) = torch.autograd.grad(losses.nonsaturating_g_loss(x), x)
    rejected = x.detach() < -20
    assert torch.allclose(grad[rejected], torch.full_like(grad[rejected], -1 / len(logits)), rtol=1e-4)


# --- regularisers: a linear critic C(x) = <w, x> has gradient w at every point -------------------------
shapes = st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 6), st.integers(1, 6))


@given(shape=shapes, seed=st.integers(0, 2**16), scale=st.floats(0.01, 10), weight=st.floats(0.1, 20))
def test_gradient_penalty_of_a_linear_critic_is_weight_times_norm_minus_one_squared(
    shape, seed, scale, weight
):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(shape[1:], generator=g, dtype=torch.float64) * scale
    real, fake = (
        torch.randn(shape, generator=g, dtype=torch.float64),
        torch.randn(shape, generator=g).double(),
    )
    penalty, norms = gradient_penalty(lambda x: (x * w).flatten(1).sum(1), real, fake, weight=weight)
    assert torch.allclose(norms, w.norm().expand(shape[0]))
    assert penalty.item() == pytest.approx(weight * (w.norm().item() - 1) ** 2, rel=1e-9, abs=1e-12)


@given(shape=shapes, seed=st.integers(0, 2**16), weight=st.floats(0.1, 20))
def test_r1_of_a_linear_discriminator_is_half_gamma_times_squared_norm(shape, seed, weight):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(shape[1:], generator=g, dtype=torch.float64)
    real = torch.randn(shape, generator=g, dtype=torch.float64).requires_grad_(True)
    penalty = r1_penalty((real * w).flatten(1).sum(1), real, weight=weight)
    assert penalty.item() == pytest.approx(0.5 * weight * w.pow(2).sum().item(), rel=1e-9)


# --- ADA --------------------------------------------------------------------------------------------------
@given(
    p=st.floats(0, 1),
    rt=st.floats(-1, 1),
    target=st.floats(0.01, 0.99),
    n=st.integers(1, 4096),
    kimg=st.floats(0.01, 500),
)
def test_ada_adjust_moves_p_one_step_towards_less_overfitting_and_stays_in_0_1(p, rt, target, n, kimg):
    new = ada_adjust(
        torch.tensor(p, dtype=torch.float64), torch.tensor(rt, dtype=torch.float64), target, n, kimg
    )
    step = math.copysign(n / (kimg * 1000), rt - target) if rt != target else 0.0
    assert 0.0 <= new.item() <= 1.0
    assert new.item() == pytest.approx(min(max(p + step, 0.0), 1.0), abs=1e-12)


images = st.tuples(
    st.integers(1, 4), st.sampled_from([1, 3]), st.integers(2, 12), st.integers(2, 12)
).flatmap(lambda s: arrays(np.float32, s, elements=st.floats(-1, 1, width=32)))


@given(x=images, seed=st.integers(0, 2**16))
def test_augmentation_at_p_zero_returns_every_image_unchanged(x, seed):
    torch.manual_seed(seed)
    x = torch.from_numpy(x)
    assert torch.equal(AdaptiveAugment(p=0.0)(x.clone()), x)


@given(x=images, seed=st.integers(0, 2**16))
def test_blit_ops_at_p_one_return_one_of_their_images_never_a_blend(x, seed):
    torch.manual_seed(seed)
    x = torch.from_numpy(x)
    flipped = AdaptiveAugment(p=1.0, ops=("xflip",))(x)
    for out, img in zip(flipped, x):
        assert torch.allclose(out, img, atol=1e-5) or torch.allclose(out, img.flip(-1), atol=1e-5)
    square = x[..., : min(x.shape[-2:]), : min(x.shape[-2:])].contiguous()  # rot90 keeps a square's shape
    rotated = AdaptiveAugment(p=1.0, ops=("rotate90",))(square)
    for out, img in zip(rotated, square):
        assert any(torch.allclose(out, torch.rot90(img, k, (-2, -1)), atol=1e-5) for k in range(4))


# --- FID, KID, precision/recall ---------------------------------------------------------------------------
feature_sets = st.tuples(st.integers(8, 40), st.integers(8, 40), st.integers(1, 5), st.integers(0, 2**16))


def two_sets(spec):
    n_a, n_b, d, seed = spec
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n_a, d)), rng.normal(size=(n_b, d)) * rng.uniform(0.5, 2) + rng.normal(size=d)


@given(spec=feature_sets)
def test_fid_is_symmetric_and_zero_between_a_set_and_itself(spec):
    a, b = two_sets(spec)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-6, abs=1e-9)
    assert abs(frechet_distance(a, a)) < 1e-6
    assert frechet_distance(a, b) > -1e-9


@given(spec=feature_sets, seed=st.integers(0, 2**16))
def test_fid_is_invariant_to_moving_both_sets_and_a_shift_of_one_adds_its_squared_length(spec, seed):
    a, b = two_sets(spec)
    rng = np.random.default_rng(seed)
    d = a.shape[1]
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))  # a random rotation (or reflection)
    v = rng.normal(size=d)
    fd = frechet_distance(a, b)
    assert frechet_distance(a @ q.T + v, b @ q.T + v) == pytest.approx(fd, rel=1e-6, abs=1e-8)
    assert frechet_distance(a, a + v) == pytest.approx(float(v @ v), rel=1e-6, abs=1e-8)


@given(spec=feature_sets, seed=st.integers(0, 2**16))
def test_kid_does_not_depend_on_the_order_of_the_samples(spec, seed):
    a, b = two_sets(spec)
    rng = np.random.default_rng(seed)
    size = min(len(a), len(b))
    kid = kernel_inception_distance(a, b, subsets=3, subset_size=size)[0]
    shuffled = kernel_inception_distance(rng.permutation(a), rng.permutation(b), subsets=3, subset_size=size)[
        0
    ]
    if size == len(a) == len(b):  # every subset is the whole set: the estimate is exactly order-free
        assert shuffled == pytest.approx(kid, rel=1e-9, abs=1e-12)
    swapped = kernel_inception_distance(b, a, subsets=1, subset_size=size, seed=0)[0]
    again = kernel_inception_distance(a, b, subsets=1, subset_size=size, seed=0)[0]
    if size == len(a) == len(b):  # and MMD^2 is symmetric
        assert swapped == pytest.approx(again, rel=1e-9, abs=1e-12)


@given(spec=feature_sets, k=st.integers(1, 5))
def test_precision_of_real_fake_is_recall_of_fake_real(spec, k):
    a, b = two_sets(spec)
    p_ab, r_ab = precision_recall(a, b, k=k)
    p_ba, r_ba = precision_recall(b, a, k=k)
    assert (p_ab, r_ab) == (r_ba, p_ba)
    assert precision_recall(a, a, k=k) == (1.0, 1.0)


# --- resume at any step --------------------------------------------------------------------------------
STEPS = 8


def tiny_config(**overrides) -> TrainConfig:
    return TrainConfig.for_model(
        "dcgan",
        **{
            "data": "digits",  # named, not passed in: resume reloads the data the config names
            "steps": STEPS,
            "batch_size": 8,
            "z_dim": 8,
            "width": 4,
            "log_every": 3,
            "sample_every": 0,
            "checkpoint_every": 1,
            "seed": 5,
            "threads": 1,
            "ema": 0.9,
            **overrides,
        },
    )


def weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {
        f"{name}.{k}": v for name, net in trainer.family.nets.items() for k, v in net.state_dict().items()
    }


@pytest.fixture(scope="module")
def uninterrupted():
    return {augment: weights(_fit(tiny_config(augment=augment))) for augment in ("none", "ada")}


def _fit(config, run_dir=None, until=None):
    trainer = Trainer(config, run_dir=run_dir, progress=False)
    trainer.fit(until=until)
    return trainer


@settings(max_examples=6, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(split=st.integers(1, STEPS - 1), augment=st.sampled_from(["none", "ada"]))
def test_a_run_split_at_any_step_and_resumed_ends_where_the_uninterrupted_run_ends(
    uninterrupted, tmp_path_factory, split, augment
):
    run_dir = tmp_path_factory.mktemp("split") / "run"
    _fit(tiny_config(augment=augment), run_dir=run_dir, until=split)
    resumed = Trainer.resume(run_dir, progress=False)
    resumed.fit()
    got, want = weights(resumed), uninterrupted[augment]
    assert got.keys() == want.keys()
    for name in want:
        assert torch.equal(got[name], want[name]), f"{name} differs after a resume at step {split}"
