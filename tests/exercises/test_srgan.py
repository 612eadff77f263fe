"""Lesson 11's exercise checks accept the reference solutions and reject plausible wrong answers, each with
the sentence that tells the learner what is wrong."""

import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from toolkit.exercises import WrongAnswer, grade, show_solution
from toolkit.exercises.srgan import check_generator_loss, check_pixel_unshuffle, check_psnr

SOLUTIONS = Path(__file__).resolve().parents[2] / "lessons" / "solutions"
spec = importlib.util.spec_from_file_location("11_srgan", SOLUTIONS / "11_srgan.py")
SRGAN = importlib.util.module_from_spec(spec)
spec.loader.exec_module(SRGAN)


@pytest.mark.parametrize(
    "check, answer",
    [
        (check_pixel_unshuffle, SRGAN.pixel_unshuffle),
        (check_generator_loss, SRGAN.relativistic_g_loss),
        (check_psnr, SRGAN.my_psnr),
    ],
)
def test_reference_solutions_pass(check, answer):
    check(answer)


def test_pixel_unshuffle_reference_inverts_pixel_shuffle_and_matches_the_library():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    assert torch.equal(SRGAN.pixel_unshuffle(x, 2), nn.PixelUnshuffle(2)(x))
    assert SRGAN.pixel_unshuffle(x, 2)[0, :, 0, 0].tolist() == [0, 1, 4, 5]  # the top-left 2x2 patch
    assert torch.equal(nn.PixelShuffle(2)(SRGAN.pixel_unshuffle(x, 2)), x)


def unshuffle_with(view, permute):
    def answer(x, r):
        n, c, hr, wr = x.shape
        h, w = hr // r, wr // r
        return x.view(n, *view(c, r, h, w)).permute(0, *permute).reshape(n, c * r * r, h, w)

    return answer


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda x, r: nn.PixelUnshuffle(r)(x), "reshape"),
        (lambda x, r: F.pixel_unshuffle(x, r), "reshape"),
        (lambda x, r: x.view(x.shape[0], -1, x.shape[2] // r, x.shape[3] // r), "wrong places"),
        (unshuffle_with(lambda c, r, h, w: (c, h, r, w, r), (1, 5, 3, 2, 4)), "swapped"),
        (unshuffle_with(lambda c, r, h, w: (c, h, r, w, r), (3, 5, 1, 2, 4)), "grouped the wrong way"),
        (unshuffle_with(lambda c, r, h, w: (c, r, h, r, w), (1, 2, 4, 3, 5)), "tiles"),
        (lambda x, r: x.view(x.shape[0], -1, x.shape[2] // r, x.shape[3]), "becomes"),
        (lambda x, r: F.avg_pool2d(x, r).repeat(1, r * r, 1, 1), "only moves values"),
    ],
)
def test_pixel_unshuffle_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_pixel_unshuffle(wrong)


def test_pixel_unshuffle_check_restores_the_library():
    with pytest.raises(WrongAnswer):
        check_pixel_unshuffle(lambda x, r: F.pixel_unshuffle(x, r))
    x = torch.arange(16.0).view(1, 1, 4, 4)
    assert nn.PixelUnshuffle(2)(x).shape == (1, 4, 2, 2) and nn.PixelShuffle(2)(x.view(1, 4, 2, 2)).shape == (
        1,
        1,
        4,
        4,
    )


def content(features, fake, real):
    return (features(fake) - features(real).detach()).pow(2).mean()


def adv(D, fake, real):
    """ESRGAN's relativistic average term, D's logits on the real images as constants."""
    r, f = D(real).detach(), D(fake)
    return F.softplus(r - f.mean()).mean() + F.softplus(r.mean() - f).mean()


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda f, D, x, y, w: content(f, x, y) + w * F.softplus(-D(x)).mean(), "SRGAN's adversarial term"),
        (lambda f, D, x, y, w: content(f, x, y), "adversarial term is missing"),
        (
            lambda f, D, x, y, w: content(f, x, y) + w * F.softplus(D(y).detach().mean() - D(x)).mean(),
            "a term for the real images too",
        ),
        (
            lambda f, D, x, y, w: content(f, x, y) + w * F.softplus(D(y).detach() - D(x).mean()).mean(),
            "a term for the fakes too",
        ),
        (
            lambda f, D, x, y, w: content(f, x, y) + 2 * w * F.softplus(D(y).detach() - D(x)).mean(),
            "same index",
        ),
        (lambda f, D, x, y, w: content(f, x, y) + w * adv(lambda z: -D(z), x, y), "the signs are D's"),
        (lambda f, D, x, y, w: content(f, x, y) + 0.5 * w * adv(D, x, y), "do not average them"),
        (lambda f, D, x, y, w: content(f, x, y) + adv(D, x, y), "multiply the adversarial term"),
        (lambda f, D, x, y, w: content(f, x, y) + 1e-3 * adv(D, x, y), "adversarial_weight argument"),
        (lambda f, D, x, y, w: w * content(f, x, y) + adv(D, x, y), "weight belongs"),
        (lambda f, D, x, y, w: (x - y.detach()).pow(2).mean() + w * adv(D, x, y), "not pixels"),
        (lambda f, D, x, y, w: (f(x) - f(y).detach()).abs().mean() + w * adv(D, x, y), "not an absolute"),
        (lambda f, D, x, y, w: (f(x) - f(y).detach()).pow(2).sum() + w * adv(D, x, y), "do not sum"),
        # the target's features, or D's logits on it, not detached: gradient flows into the real image
        (lambda f, D, x, y, w: (f(x) - f(y)).pow(2).mean() + w * adv(D, x, y), "gradient reaches the target"),
        (
            lambda f, D, x, y, w: (
                content(f, x, y)
                + w * (F.softplus(D(y) - D(x).mean()).mean() + F.softplus(D(y).mean() - D(x)).mean())
            ),
            "gradient reaches the target",
        ),
        # Lornatang/SRGAN-PyTorch: ContentLoss returns torch.Tensor([losses]), a new leaf without gradient
        (
            lambda f, D, x, y, w: torch.Tensor([content(f, x, y).item()]) + w * adv(D, x, y),
            "content term passes no",
        ),
        (lambda f, D, x, y, w: content(f, x, y).detach() + w * adv(D, x, y), "content term passes no"),
        (
            lambda f, D, x, y, w: torch.tensor((content(f, x, y) + w * adv(D, x, y)).item()),
            "passes no gradient",
        ),
        (
            lambda f, D, x, y, w: (f(x) - f(y).detach()).pow(2).mean(dim=(1, 2, 3)) + w * adv(D, x, y),
            "one-number",
        ),
    ],
)
def test_generator_loss_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_generator_loss(wrong)


def test_generator_loss_check_accepts_equivalent_forms():
    check_generator_loss(lambda f, D, x, y, w: F.mse_loss(f(x), f(y).detach()) + w * adv(D, x, y))
    check_generator_loss(lambda f, D, x, y, w: content(f, x, y) + w * adv(D, x, y.detach()))


def mse01(x, y):
    return ((x - y) / 2).pow(2).mean(dim=(1, 2, 3))


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda x, y: 10 * torch.log10(1 / (x - y).pow(2).mean(dim=(1, 2, 3))), "6.02 dB"),
        (lambda x, y: 10 * torch.log10(1 / mse01(x, y).mean()), "one PSNR per image"),
        (lambda x, y: 20 * torch.log10(1 / mse01(x, y)), "not 20 log10"),
        (lambda x, y: 10 * torch.log(1 / mse01(x, y)), "natural log"),
        (lambda x, y: 10 * torch.log10(mse01(x, y)), "other way round"),
        (lambda x, y: 10 * torch.log10(1 / ((x - y).abs() / 2).mean(dim=(1, 2, 3))), "absolute"),
        (lambda x, y: 10 * torch.log10(1 / mse01(x, y).sqrt()), "RMSE"),
        (lambda x, y: 10 * torch.log10(1 / ((x - y) / 2).pow(2).mean(dim=(2, 3))[:, 0]), "colour"),
        (lambda x, y: (10 * torch.log10(1 / mse01(x, y))).tolist(), "return a tensor"),
    ],
)
def test_psnr_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_psnr(wrong)


def test_grade_and_show_solution(capsys):
    assert grade(check_psnr, SRGAN.my_psnr)
    assert not grade(check_psnr, lambda x, y: 10 * torch.log10(1 / mse01(x, y).mean()))
    assert capsys.readouterr().out.splitlines()[-1].startswith("x ")

    def not_yet(x, r):
        raise NotImplementedError

    assert not grade(check_pixel_unshuffle, not_yet)
    assert "not attempted" in capsys.readouterr().out
    show_solution("11_srgan", "relativistic_g_loss")
    assert "torch.no_grad()" in capsys.readouterr().out
