"""Lesson 05's exercise checks accept the reference solutions and reject plausible wrong answers, each with
the sentence that tells the learner what is wrong."""

import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from toolkit.exercises import WrongAnswer, grade, show_solution
from toolkit.exercises.wgan_gp import check_critic_loss, check_cross_gradient, check_gradient_penalty

SOLUTIONS = Path(__file__).resolve().parents[2] / "lessons" / "solutions"
spec = importlib.util.spec_from_file_location("05_wgan_gp", SOLUTIONS / "05_wgan_gp.py")
WGAN = importlib.util.module_from_spec(spec)
spec.loader.exec_module(WGAN)


@pytest.mark.parametrize(
    "check, answer",
    [
        (check_gradient_penalty, WGAN.gradient_penalty),
        (check_critic_loss, WGAN.critic_loss),
        (check_cross_gradient, WGAN.cross_gradient),
    ],
)
def test_reference_solutions_pass(check, answer):
    check(answer)


def test_reference_penalty_equals_the_toolkit_regulariser_for_the_same_eps():
    from toolkit.regularizers import gradient_penalty

    critic = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    real, fake = torch.randn(10, 2), torch.randn(10, 2)
    torch.manual_seed(3)
    mine = WGAN.gradient_penalty(lambda x: critic(x).view(-1), real, fake, 10.0)
    torch.manual_seed(3)
    theirs, _ = gradient_penalty(lambda x: critic(x).view(-1), real, fake, 10.0)
    assert torch.allclose(mine, theirs)


def penalty(norms_to_value=None, eps_shape=None, grad_kwargs=None, detach=True, weight_used=True):
    """A gradient penalty with one thing changed."""
    grad_kwargs = {"create_graph": True} if grad_kwargs is None else grad_kwargs

    def answer(critic, real, fake, weight=10.0):
        b = real.shape[0]
        shape = (b, *[1] * (real.dim() - 1)) if eps_shape is None else eps_shape(real)
        eps = torch.rand(shape)
        r, f = (real.detach(), fake.detach()) if detach else (real, fake)
        x_hat = eps * r + (1 - eps) * f
        if detach:
            x_hat.requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, **grad_kwargs)
        value = (
            ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
            if norms_to_value is None
            else norms_to_value(grad)
        )
        return weight * value if weight_used else value

    return answer


def one_sided(grad):
    return F.relu(grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


def whole_batch_norm(grad):
    return (grad.norm() - 1) ** 2


def squared_norm(grad):
    return (grad.flatten(1).pow(2).sum(1) - 1).pow(2).mean()


def summed(grad):
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).sum()


def channel_norm(grad):
    return ((grad.norm(dim=1) - 1) ** 2).mean()


def returns_norms_too(critic, real, fake, weight=10.0):
    return WGAN.gradient_penalty(critic, real, fake, weight), torch.ones(len(real))


def at_real_points(critic, real, fake, weight=10.0):
    x = real.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return weight * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


@pytest.mark.parametrize(
    "wrong, message",
    [
        (penalty(grad_kwargs={}), "create_graph=True"),
        (penalty(eps_shape=lambda real: (1,) * real.dim()), "not one for the whole batch"),
        (penalty(eps_shape=lambda real: real.shape), "one eps per sample, shared by all its pixels"),
        (penalty(eps_shape=lambda real: (real.shape[0], 1, 1, 1)), "view eps as \\(B, 1, ..., 1\\)"),
        (penalty(norms_to_value=one_sided), "two-sided"),
        (penalty(norms_to_value=whole_batch_norm), "one gradient norm per sample"),
        (penalty(norms_to_value=squared_norm), "not the squared norm"),
        (penalty(norms_to_value=summed), "do not sum them"),
        (penalty(norms_to_value=channel_norm), "over the channels alone"),
        (penalty(weight_used=False), "multiply by the weight"),
        (penalty(detach=False), "detach real and fake"),
        (returns_norms_too, "return only the penalty"),
        (at_real_points, "\\*between\\* real and fake"),
        (lambda critic, real, fake, weight=10.0: torch.tensor(1.0), "call critic\\(x_hat\\)"),
    ],
)
def test_gradient_penalty_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_gradient_penalty(wrong)


def test_a_penalty_that_does_not_detach_but_never_sets_requires_grad_is_told_to_detach():
    def leaks_into_g(critic, real, fake, weight=10.0):
        eps = torch.rand(real.shape[0], *[1] * (real.dim() - 1))
        x_hat = eps * real + (1 - eps) * fake  # fake tracks gradients, so this "works" and leaks into G
        (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
        return weight * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()

    with pytest.raises(WrongAnswer, match="reaches G's images"):
        check_gradient_penalty(leaks_into_g)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda critic, real, fake: critic(real).mean() - critic(fake.detach()).mean(), "sign is flipped"),
        (lambda critic, real, fake: critic(fake).mean() - critic(real).mean(), "reaches G"),
        (lambda critic, real, fake: critic(fake.detach()).sum() - critic(real).sum(), "do not sum"),
        (
            lambda critic, real, fake: torch.cat([critic(fake.detach()), -critic(real)]).mean(),
            "separately",
        ),
        (
            lambda critic, real, fake: (
                torch.sigmoid(critic(fake.detach())).mean() - torch.sigmoid(critic(real)).mean()
            ),
            "no sigmoid",
        ),
        (
            lambda critic, real, fake: (
                F.softplus(-critic(real)).mean() + F.softplus(critic(fake.detach())).mean()
            ),
            "BCE",
        ),
        (
            lambda critic, real, fake: torch.tensor((critic(fake).mean() - critic(real).mean()).item()),
            "passes no gradient",
        ),
        (lambda critic, real, fake: torch.tensor(0.0), "should be"),
    ],
)
def test_critic_loss_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_critic_loss(wrong)


def grad_of(score, row, norm=True):
    def answer(critic, x, i, j):
        x = x.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(score(critic(x), i, j), x)
        picked = g[row(i, j)] if row is not None else g
        return picked.norm().item() if norm else picked

    return answer


def in_eval_mode(critic, x, i, j):
    critic.eval()
    return WGAN.cross_gradient(critic, x, i, j)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (grad_of(lambda f, i, j: f.sum(), lambda i, j: j), "not the sum of all scores"),
        (grad_of(lambda f, i, j: f[j], lambda i, j: i), "swapped"),
        (grad_of(lambda f, i, j: f[i], lambda i, j: i), "its own input"),
        (grad_of(lambda f, i, j: f[i], None), "whole \\(B, D\\) gradient"),
        (grad_of(lambda f, i, j: f[i], lambda i, j: j, norm=False), "one number"),
        (in_eval_mode, "training mode"),
    ],
)
def test_cross_gradient_check_rejects_wrong_answers(wrong, message):
    with pytest.raises(WrongAnswer, match=message):
        check_cross_gradient(wrong)


def test_stubs_are_not_attempted_and_solutions_print(capsys):
    def gradient_penalty(critic, real, fake, weight=10.0):
        raise NotImplementedError

    assert not grade(check_gradient_penalty, gradient_penalty)
    assert "not attempted" in capsys.readouterr().out
    assert grade(check_gradient_penalty, WGAN.gradient_penalty)
    show_solution("05_wgan_gp", "gradient_penalty")
    assert "create_graph=True" in capsys.readouterr().out
