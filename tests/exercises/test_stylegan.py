"""Lesson 14's exercise checks accept the reference solutions and reject plausible wrong answers (and the
toolkit's own functions), each with the sentence that tells the learner what is wrong."""

import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from toolkit.exercises import WrongAnswer, grade
from toolkit.exercises.stylegan import check_mix_styles, check_modulated_conv, check_truncate
from toolkit.models import stylegan

SOLUTIONS = Path(__file__).resolve().parents[2] / "lessons" / "solutions"
spec = importlib.util.spec_from_file_location("14_stylegan", SOLUTIONS / "14_stylegan.py")
SOLUTION = importlib.util.module_from_spec(spec)
spec.loader.exec_module(SOLUTION)


@pytest.mark.parametrize(
    "check, answer",
    [
        (check_modulated_conv, SOLUTION.modulated_conv),
        (check_truncate, SOLUTION.truncate),
        (check_mix_styles, SOLUTION.mix_styles),
    ],
)
def test_reference_solutions_pass(check, answer):
    check(answer)


def conv_with(demod_dims=(2, 3, 4), first_only=False, on_outputs=False, demodulate=True):
    def modulated_conv(x, weight, styles):
        out = []
        for b in range(x.shape[0]):
            s = styles[0 if first_only else b]
            w = weight * (s[:, None, None, None] if on_outputs else s[None, :, None, None])
            if demodulate:
                w = w / torch.sqrt(w.square().sum(dim=tuple(d - 1 for d in demod_dims), keepdim=True) + 1e-8)
            out.append(F.conv2d(x[b : b + 1], w, padding=1))
        return torch.cat(out)

    return modulated_conv


def truncate_swapped(w, w_avg, psi):
    return w + psi * (w_avg - w)


def truncate_clamped(w, w_avg, psi):
    return w_avg + min(psi, 1.0) * (w - w_avg)


def mix_late(ws1, ws2, crossover):
    return torch.cat([ws1[:, : crossover + 1], ws2[:, crossover + 1 :]], dim=1)


def mix_swapped(ws1, ws2, crossover):
    return torch.cat([ws2[:, :crossover], ws1[:, crossover:]], dim=1)


@pytest.mark.parametrize(
    "check, wrong, message",
    [
        (check_modulated_conv, conv_with(demodulate=False), "did not demodulate"),
        (check_modulated_conv, conv_with(demod_dims=(1, 3, 4)), "demodulate per *output* channel"),
        (check_modulated_conv, conv_with(first_only=True), "each sample needs its own weights"),
        (check_modulated_conv, conv_with(on_outputs=True), "scales the *input* channels"),
        (check_modulated_conv, conv_with(), "section 3 looped over the batch"),  # right values, a loop
        (check_modulated_conv, lambda x, w, s: F.conv2d(x, w), "return a tensor (B, O, H, W)"),
        (check_modulated_conv, stylegan.modulated_conv2d, "calling the toolkit's own function"),
        (
            check_modulated_conv,
            lambda x, w, s: stylegan.modulated_conv2d(x, w, s, padding=1),
            "calling the toolkit's own function",
        ),
        (check_truncate, truncate_swapped, "psi is the weight of w"),
        (check_truncate, truncate_clamped, "do not clamp psi"),
        (check_truncate, lambda w, w_avg, psi: stylegan.truncate(w, w_avg, psi), "toolkit's own"),
        (check_mix_styles, mix_late, "off by one: layer `crossover` itself"),
        (check_mix_styles, mix_swapped, "before* the crossover (coarse styles) come from the first latent"),
        (check_mix_styles, stylegan.mix_styles, "toolkit's own"),
    ],
)
def test_wrong_answers_are_rejected_with_what_is_wrong(check, wrong, message):
    with pytest.raises(WrongAnswer, match=None) as caught:
        check(wrong)
    assert message in str(caught.value)
    assert stylegan.modulated_conv2d.__name__ == "modulated_conv2d"  # restored after the check


def test_a_stub_is_not_attempted(capsys):
    def truncate(w, w_avg, psi):
        raise NotImplementedError

    assert not grade(check_truncate, truncate)
    assert "not attempted" in capsys.readouterr().out
