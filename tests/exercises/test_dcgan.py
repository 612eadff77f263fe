"""Lesson 02's exercise checks accept the reference solutions and reject plausible wrong answers, each with
the sentence that tells the learner what is wrong."""

import importlib.util
from pathlib import Path

import pytest
import torch
from torch import nn

from toolkit.exercises import WrongAnswer, grade, show_solution
from toolkit.exercises.dcgan import check_convtranspose_out, check_dcgan_weights_init, check_generator_block

SOLUTIONS = Path(__file__).resolve().parents[2] / "lessons" / "solutions"
spec = importlib.util.spec_from_file_location("02_dcgan", SOLUTIONS / "02_dcgan.py")
DCGAN = importlib.util.module_from_spec(spec)
spec.loader.exec_module(DCGAN)


@pytest.mark.parametrize(
    "check, answer",
    [
        (check_convtranspose_out, DCGAN.convtranspose_out),
        (check_dcgan_weights_init, DCGAN.dcgan_weights_init),
        (check_generator_block, DCGAN.generator_block),
    ],
)
def test_reference_solutions_pass(check, answer):
    check(answer)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda n, k, s, p: (n + 2 * p - k) // s + 1, "ordinary convolution"),
        (lambda n, k, s, p: n * s - 2 * p + k, "not n \\* s"),
        (lambda n, k, s, p: (n - 1) * s + 2 * p + k, "subtract 2 \\* p"),
        (lambda n, k, s, p: 32, "the output side is"),
        (lambda n, k, s, p: 2 * n, "the output side is"),
    ],
)
def test_convtranspose_out_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_convtranspose_out(wrong)


def init_with(
    conv_std=0.02, bn_mean=1.0, bn_std=0.02, kinds=(nn.Conv2d, nn.ConvTranspose2d, nn.Linear), bias=True
):
    def dcgan_weights_init(m):
        if isinstance(m, kinds):
            nn.init.normal_(m.weight, 0.0, conv_std)
            if bias and m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, bn_mean, bn_std)
            nn.init.zeros_(m.bias)

    return dcgan_weights_init


def pytorch_tutorial_style(m):
    # the classname test of PyTorch's DCGAN tutorial, minus the bias: its convs have bias=False
    name = m.__class__.__name__
    if "Conv" in name or "Linear" in name:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (init_with(conv_std=0.02**0.5), "not a variance of 0.02"),
        (init_with(bn_mean=0.0), "mean 1"),
        (init_with(bn_std=0.0), "not left at exactly 1"),
        (init_with(kinds=(nn.Conv2d, nn.Linear)), "ConvTranspose2d weights have standard deviation"),
        (init_with(bias=False), "biases should be set to 0"),
        (pytorch_tutorial_style, "biases should be set to 0"),
        (init_with(conv_std=0.2), "ConvTranspose2d weights have standard deviation 0.199[0-9], not 0.02"),
        (
            lambda m: nn.init.uniform_(m.weight, -0.0346, 0.0346) if isinstance(m, nn.Conv2d) else None,
            "ConvTranspose2d weights have standard deviation",
        ),
    ],
)
def test_init_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_dcgan_weights_init(wrong)


def test_init_check_rejects_uniform_weights_of_the_right_spread():
    def uniform(m):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.uniform_(m.weight, -0.02 * 3**0.5, 0.02 * 3**0.5)  # std 0.02, but uniform
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)

    with pytest.raises(WrongAnswer, match="uniform, not normal"):
        check_dcgan_weights_init(uniform)


def resize_conv(*layers):
    return lambda i, o: nn.Sequential(*[layer(i, o) for layer in layers])


UP = lambda i, o: nn.Upsample(scale_factor=2, mode="nearest")  # noqa: E731
CONV = lambda i, o: nn.Conv2d(i, o, 3, 1, 1, bias=False)  # noqa: E731
BN = lambda i, o: nn.BatchNorm2d(o)  # noqa: E731
RELU = lambda i, o: nn.ReLU()  # noqa: E731


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda i, o: nn.Sequential(
                nn.ConvTranspose2d(i, o, 4, 2, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU()
            ),
            "section 3's transposed-convolution block",
        ),
        (resize_conv(CONV, BN, RELU), "12x12"),
        (resize_conv(lambda i, o: nn.Upsample(scale_factor=2, mode="bilinear"), CONV, BN, RELU), "nearest"),
        (resize_conv(UP, lambda i, o: nn.Conv2d(i, o, 5, 1, 2, bias=False), BN, RELU), "nn.Conv2d\\(c_in"),
        (resize_conv(UP, CONV, RELU), "batch norm"),
        (resize_conv(UP, lambda i, o: nn.Conv2d(i, o, 3, 1, 1), BN, RELU), "bias=False"),
        (resize_conv(UP, CONV, BN, lambda i, o: nn.LeakyReLU(0.2)), "LeakyReLU"),
        (resize_conv(UP, CONV, BN, lambda i, o: nn.Tanh()), "end the block with nn.ReLU"),
        (resize_conv(CONV, BN, RELU, UP), "upsample \\*before\\* the convolution"),
        (resize_conv(UP, CONV, RELU, BN), "end the block with nn.ReLU"),
        (lambda i, o: nn.Sequential(nn.BatchNorm2d(i), UP(i, o), CONV(i, o), nn.ReLU()), "in the order"),
    ],
)
def test_generator_block_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_generator_block(wrong)


def test_grade_on_a_stub_and_show_solution(capsys):
    def generator_block(c_in, c_out):
        raise NotImplementedError

    assert not grade(check_generator_block, generator_block)
    assert "not attempted" in capsys.readouterr().out
    assert grade(check_convtranspose_out, DCGAN.convtranspose_out)
    show_solution("02_dcgan", "dcgan_weights_init")
    assert "normal_" in capsys.readouterr().out
    assert torch.equal(torch.tensor(DCGAN.convtranspose_out(16, 4, 2, 1)), torch.tensor(32))
