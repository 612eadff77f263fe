"""Each alarm fires on the pattern it names and stays quiet on a healthy run."""

import math

import torch

from toolkit.alarms import (
    CLASS_ENTROPY,
    DUPLICATES,
    EDGES,
    SURE,
    collapse,
    collapse_measures,
    divergence,
    overfitting,
    run_alarms,
)


def rows_of(**series):
    n = len(next(iter(series.values())))
    return [
        {"step": 10 * (i + 1), "time": float(i), **{k: v[i] for k, v in series.items()}} for i in range(n)
    ]


def test_healthy_rows_raise_nothing():
    rows = rows_of(
        loss_d=[1.2, 1.1, 1.3, 1.2, 1.25, 1.15, 1.3],
        loss_g=[0.9, 1.0, 0.95, 1.1, 1.0, 0.9, 1.2],
        d_real_sign=[0.3, 0.4, 0.5, 0.45, 0.6, 0.55, 0.6],
    )
    assert run_alarms(rows) == []


def test_divergence_on_a_spike_or_a_non_finite_loss():
    spike = rows_of(loss_g=[1.0, 1.1, 0.9, 1.0, 1.05, 1.0, 9.0])
    alarm = divergence(spike)
    assert (
        alarm.kind == "divergence"
        and "loss_g jumped to 9 at step 70" in alarm.message
        and "lower the learning rates (Steer" in alarm.advice
    )
    assert divergence(rows_of(loss_g=[1.0, 1.1, 0.9, 1.0, 1.05, 1.0, 4.0])) is None  # 4x: not a spike
    assert "nan" in divergence(rows_of(loss_d=[1.0, math.nan])).message


def test_overfitting_on_r_t_near_one_or_a_growing_gap():
    assert overfitting(rows_of(d_real_sign=[0.95, 0.97, 0.99, 0.98, 0.96])).kind == "overfitting"
    assert overfitting(rows_of(d_real_sign=[0.95, 0.97, 0.85, 0.98, 0.96])) is None  # one row below 0.9
    assert "growing" in overfitting(rows_of(d_gap=[0.2, 0.8, 1.6])).message
    assert overfitting(rows_of(d_gap=[2.0, 1.5, 1.2])) is None  # shrinking


def test_r_t_just_above_the_threshold_reads_above_it():
    alarm = overfitting(rows_of(d_real_sign=[0.95, 0.95, 0.95, 0.95, 0.9004]))
    assert "has stayed above 0.9 (now 0.9004)" in alarm.message  # not "now 0.90"
    assert "(now 0.97)" in overfitting(rows_of(d_real_sign=[0.97] * 5)).message  # two decimals suffice
    assert "(now 0.9100)" not in overfitting(rows_of(d_real_sign=[0.91] * 5)).message


def test_overfitting_advice_names_what_the_dashboard_can_change_and_flags_only_as_the_command_lines():
    for augment in ("none", "diffaugment", "ada", "diffusion"):
        advice = overfitting(rows_of(d_real_sign=[0.99] * 5), augment).advice
        in_the_page, command_line = advice.split("; from the command line: ")
        assert "--" not in in_the_page and "--" in command_line  # flags only after "from the command line"
        assert "lower lr_d (Steer" in in_the_page or "lower the target r_t or lr_d (Steer" in in_the_page
        assert ("target r_t" in in_the_page) == (augment in ("ada", "diffusion"))  # Steer shows its slider
    for rows in (rows_of(loss_g=[1.0, 1.1, 0.9, 1.0, 1.05, 1.0, 9.0]), rows_of(loss_d=[1.0, math.nan])):
        in_the_page, command_line = divergence(rows).advice.split("from the command line: ")
        assert "--" not in in_the_page and "--" in command_line


def test_collapse_on_near_copies_or_few_classes():
    torch.manual_seed(0)
    real = torch.rand(128, 1, 32, 32) * 2 - 1
    copies = real[:4].repeat(32, 1, 1, 1) + 0.01 * torch.randn(128, 1, 32, 32)
    assert collapse(copies, real).kind == "collapse" and "near-copies" in collapse(copies, real).message
    varied = torch.rand(128, 1, 32, 32) * 2 - 1
    assert collapse(varied, real) is None
    two_classes = torch.nn.functional.one_hot(torch.arange(128) % 2, 10).float()
    assert "few classes" in collapse(varied, real, two_classes).message
    all_classes = torch.nn.functional.one_hot(torch.arange(128) % 10, 10).float()
    assert collapse(varied, real, all_classes) is None


def blobs(n: int, seed: int = 0) -> torch.Tensor:
    """What a fresh GAN draws: one smooth blob with small variations, no edges to speak of."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, 32), torch.linspace(-1, 1, 32), indexing="ij")
    blob = torch.exp(-(xx**2 + yy**2) * 3) * 1.2 - 0.6
    return blob.expand(n, 1, 32, 32) + 0.01 * torch.randn(n, 1, 32, 32, generator=g)


def uncertain_few_classes(n: int) -> torch.Tensor:
    """The classifier on blobs: unsure (top probability 0.45), its guesses in 5 of 10 classes, mostly one."""
    probs = torch.full((n, 10), 0.55 / 9)
    top = torch.tensor([8] * (n - 4 * (n // 16)) + [0, 2, 9, 3] * (n // 16))
    probs[torch.arange(n), top] = 0.45
    return probs


def test_collapse_stays_quiet_early_in_training():
    """A fresh run's blobs are close to each other and fall into few classes (the banner used to say "5
    classes seen" on every new run); they have no structure yet, so nothing is judged."""
    torch.manual_seed(0)
    real = torch.rand(128, 1, 32, 32) * 2 - 1
    early, probs = blobs(128), uncertain_few_classes(128)
    measures = collapse_measures(early, real, probs)
    assert measures["spread"] < DUPLICATES and measures["coverage"] < CLASS_ENTROPY  # the old alarms' view
    assert measures["edges"] < EDGES and measures["sure"] < SURE and measures["classes"] == 5
    assert collapse(early, real, probs) is None
    history = [collapse_measures(blobs(128, seed=s), real, probs) for s in (1, 2)]  # blobs all along
    assert collapse(early, real, probs, history) is None  # nothing rose, so nothing fell


def test_collapse_compares_the_run_with_itself():
    torch.manual_seed(0)
    real = torch.rand(128, 1, 32, 32) * 2 - 1
    varied = torch.rand(128, 1, 32, 32) * 2 - 1
    all_classes = torch.nn.functional.one_hot(torch.arange(128) % 10, 10).float()
    healthy = collapse_measures(varied, real, all_classes)
    assert collapse(varied, real, all_classes, [healthy]) is None
    alarm = collapse(blobs(128), real, uncertain_few_classes(128), [healthy])  # diversity fell since
    assert (
        alarm.kind == "collapse"
        and "fell to" in alarm.message
        and f"from {healthy['spread']:.2f}" in alarm.message
    )
    two_classes = torch.nn.functional.one_hot(torch.arange(128) % 2, 10).float() * 0.5 + 0.05
    alarm = collapse(varied, real, two_classes, [healthy])
    assert "class coverage fell to 0.30, from 1.00 earlier in this run" in alarm.message


def test_collapse_stays_quiet_on_a_fresh_60_step_dcgan_run(tmp_path):
    """The run from the issue: DCGAN on Fashion-MNIST, 60 steps at the default settings."""
    from conftest import fashion_mnist_or_skip

    fashion_mnist_or_skip()
    from toolkit.data import load_dataset
    from toolkit.generate import generate, load_generator
    from toolkit.metrics.fmnist_cnn import load_fmnist_cnn
    from toolkit.training import Trainer, config_for

    Trainer(config_for("dcgan", steps=60, threads=1, sample_every=0), run_dir=tmp_path, progress=False).fit()
    G, config = load_generator(tmp_path)
    fake = generate(G, 256, config["z_dim"], seed=0)
    real = load_dataset("fashion-mnist", resolution=32, limit=256).x[:256]
    with torch.no_grad():
        probs = load_fmnist_cnn()(fake).softmax(1)
    assert collapse(fake, real, probs) is None, collapse_measures(fake, real, probs)
