"""Each alarm fires on the pattern it names and stays quiet on a healthy run."""

import math

import torch

from toolkit.alarms import collapse, divergence, overfitting, run_alarms


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
        and "lr" in alarm.advice
    )
    assert divergence(rows_of(loss_g=[1.0, 1.1, 0.9, 1.0, 1.05, 1.0, 4.0])) is None  # 4x: not a spike
    assert "nan" in divergence(rows_of(loss_d=[1.0, math.nan])).message


def test_overfitting_on_r_t_near_one_or_a_growing_gap():
    assert overfitting(rows_of(d_real_sign=[0.95, 0.97, 0.99, 0.98, 0.96])).kind == "overfitting"
    assert overfitting(rows_of(d_real_sign=[0.95, 0.97, 0.85, 0.98, 0.96])) is None  # one row below 0.9
    assert "growing" in overfitting(rows_of(d_gap=[0.2, 0.8, 1.6])).message
    assert overfitting(rows_of(d_gap=[2.0, 1.5, 1.2])) is None  # shrinking


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
