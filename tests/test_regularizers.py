"""Penalties and constraints against hand-computed values."""

import torch

from toolkit.regularizers import clip_weights_, gradient_penalty, r1_penalty


def test_gradient_penalty_of_a_linear_critic_is_lambda_times_norm_minus_one_squared():
    w = torch.tensor([3.0, 4.0])  # ||w|| = 5 -> gradient of w.x is w everywhere -> (5 - 1)^2 = 16
    critic = lambda x: x @ w  # noqa: E731
    gp, norms = gradient_penalty(critic, torch.randn(6, 2), torch.randn(6, 2), weight=10.0)
    assert torch.allclose(norms, torch.full((6,), 5.0))
    assert torch.isclose(gp, torch.tensor(160.0))


def test_gradient_penalty_uses_the_interpolates():
    """critic(x) = ||x||^2 has gradient 2 x_hat, with x_hat = eps * real + (1 - eps) * fake."""
    real, fake = torch.tensor([[1.0, 0.0], [0.0, 2.0]]), torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    eps = torch.tensor([0.5, 0.25])
    gp, norms = gradient_penalty(lambda x: (x**2).sum(1), real, fake, weight=1.0, eps=eps)
    # x_hat = (0.5, 0), (0, 0.5) -> gradients (1, 0), (0, 1) -> norms 1 and 1 -> penalty 0
    assert torch.allclose(norms, torch.ones(2)) and gp.item() == 0.0
    gp, norms = gradient_penalty(
        lambda x: (x**2).sum(1), real, fake, weight=1.0, eps=torch.tensor([1.0, 1.0])
    )
    assert torch.allclose(norms, torch.tensor([2.0, 4.0]))  # x_hat = real
    assert torch.isclose(gp, torch.tensor(((2 - 1) ** 2 + (4 - 1) ** 2) / 2))
    # a fake that is not zero: x_hat = 0.25 * (4, 0) + 0.75 * (2, 2) = (2.5, 1.5) -> gradient (5, 3)
    _, norms = gradient_penalty(
        lambda x: (x**2).sum(1),
        torch.tensor([[4.0, 0.0]]),
        torch.tensor([[2.0, 2.0]]),
        eps=torch.tensor([0.25]),
    )
    assert torch.allclose(norms, torch.tensor([34.0]).sqrt())


def test_the_default_weights_are_the_papers():
    """WGAN-GP's lambda = 10 (Gulrajani et al., Algorithm 1); R1's gamma = 10 (Mescheder et al. 2018's
    default, also stylegan2-ada's for 32x32-64x64)."""
    w = torch.tensor([3.0, 0.0])  # ||w|| = 3: GP = lambda * 4, R1 = gamma / 2 * 9
    gp, _ = gradient_penalty(lambda x: x @ w, torch.randn(3, 2), torch.randn(3, 2))
    assert torch.isclose(gp, torch.tensor(40.0))
    x = torch.randn(3, 2, requires_grad=True)
    assert torch.isclose(r1_penalty(x @ w, x), torch.tensor(45.0))


def test_gradient_penalty_reaches_the_critic_weights():
    critic = torch.nn.Linear(3, 1)
    gp, _ = gradient_penalty(lambda x: critic(x).view(-1), torch.randn(4, 3), torch.randn(4, 3))
    gp.backward()
    assert critic.weight.grad is not None and critic.weight.grad.abs().sum() > 0


def test_r1_penalty_hand_computed():
    a = torch.tensor([1.0, -2.0, 2.0])  # D(x) = a.x -> grad a, ||a||^2 = 9 -> gamma/2 * 9
    x = torch.randn(5, 3, requires_grad=True)
    assert torch.isclose(r1_penalty(x @ a, x, weight=4.0), torch.tensor(18.0))


def test_r1_penalty_reaches_the_discriminator_weights():
    """R1 is a loss on D: it must be differentiable in D's weights (create_graph). For D(x) = a.x,
    d/da [gamma/2 ||a||^2] = gamma * a."""
    a = torch.tensor([1.0, -2.0, 2.0], requires_grad=True)
    x = torch.randn(5, 3, requires_grad=True)
    r1_penalty(x @ a, x, weight=4.0).backward()
    assert a.grad is not None and torch.allclose(a.grad, 4.0 * a.detach())


def test_clip_weights_clamps_every_parameter():
    m = torch.nn.Linear(4, 4)
    with torch.no_grad():
        m.weight.mul_(100)
    clip_weights_(m, 0.01)
    assert all(p.abs().max() <= 0.01 for p in m.parameters())
    assert (m.weight.abs() == 0.01).any()
