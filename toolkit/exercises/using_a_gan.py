"""Checks for lesson 15 (using a trained GAN). Each takes the learner's function and raises WrongAnswer on a
mistake.

While the learner's function runs, the toolkit's own answers (``toolkit.projection.learning_rate``,
``toolkit.projection.latent_penalty``, ``toolkit.directions.conditional_direction``) raise WrongAnswer
(``refuses``): the exercise is to write them.
"""

from __future__ import annotations

import math

import torch

from .. import directions, projection
from . import expect, refuses

REFUSED = "write it yourself: calling the toolkit's own function is not an answer"


@refuses(projection.learning_rate, hint=REFUSED)
def check_projector_lr(projector_lr) -> None:
    """``projector_lr(step, steps, initial)``: linear warm-up over the first 5 % of the steps, flat, then a
    half-cosine ramp-down to 0 over the last 25 % (stylegan2-ada-pytorch's projector)."""
    steps, initial = 400, 0.2
    for step in (0, 10, 20, 100, 200, 300, 350, 399):
        want = projection.learning_rate(step, steps, initial)
        got = float(projector_lr(step, steps, initial))
        if step < 20:
            expect(
                math.isclose(got, want, abs_tol=1e-6),
                f"during the warm-up (step {step} of {steps}) the rate "
                f"should rise linearly from 0: want {want:.4g}, got {got:.4g}",
            )
        elif step < 300:
            expect(
                math.isclose(got, want, abs_tol=1e-6),
                f"between the ramps (step {step} of {steps}) the rate "
                f"should be the initial {initial}, got {got:.4g}",
            )
        else:
            expect(
                math.isclose(got, want, abs_tol=1e-6),
                f"in the last quarter (step {step} of {steps}) the "
                f"rate should follow 0.5 - 0.5 cos(pi (1 - t) / 0.25): want {want:.4g}, got {got:.4g}",
            )


@refuses(projection.latent_penalty, hint=REFUSED)
def check_shell_penalty(shell_penalty) -> None:
    """``shell_penalty(z)``: (N, d) -> (N,), (|z|^2 / d - 1)^2: zero on the shell where N(0, I) puts its
    mass."""
    g = torch.Generator().manual_seed(15)
    z = torch.randn(5, 12, generator=g) * torch.tensor([0.2, 0.7, 1.0, 1.5, 3.0])[:, None]
    got = shell_penalty(z.clone())
    expect(
        torch.is_tensor(got) and got.shape == (5,),
        f"return one value per latent, shape (5,); got "
        f"{tuple(got.shape) if torch.is_tensor(got) else type(got).__name__}",
    )
    want = projection.latent_penalty(z, "z")
    expect(
        not torch.allclose(got, z.square().sum(1) / 12, atol=1e-4),
        "|z|^2 / d alone pulls z towards 0, off the shell; penalise its distance from 1, squared",
    )
    expect(
        not torch.allclose(got, (z.norm(dim=1) - 1).square(), atol=1e-4),
        "the shell is at |z|^2 = d, not |z| = 1: divide |z|^2 by the dimension d",
    )
    expect(torch.allclose(got, want, atol=1e-5), "want (|z|^2 / d - 1)^2 for each latent (row)")
    on_shell = z / z.norm(dim=1, keepdim=True) * math.sqrt(12)
    expect(
        torch.allclose(shell_penalty(on_shell), torch.zeros(5), atol=1e-5),
        "a latent with |z|^2 = d should cost 0",
    )


@refuses(directions.conditional_direction, hint=REFUSED)
def check_remove_component(remove_component) -> None:
    """``remove_component(primary, condition)``: unit vectors (d,) -> the unit vector along primary with its
    component along condition removed (InterFaceGAN's conditional manipulation, one condition)."""
    g = torch.Generator().manual_seed(34)
    for _ in range(3):
        a, b = torch.randn(2, 10, generator=g)
        primary, condition = a / a.norm(), b / b.norm()
        got = remove_component(primary.clone(), condition.clone())
        expect(torch.is_tensor(got) and got.shape == (10,), "return a vector of the primary's size")
        expect(
            abs(float(got @ condition)) < 1e-5,
            "the result must be orthogonal to the condition: subtract (primary . condition) condition",
        )
        expect(abs(float(got.norm()) - 1) < 1e-5, "normalise the result to unit length")
        expect(float(got @ primary) > 0, "keep the primary's sign: the result should still point its way")
        want = directions.conditional_direction(primary, condition)
        expect(
            torch.allclose(got, want, atol=1e-5), "want primary - (primary . condition) condition, normalised"
        )
