"""Checks for lesson 10 (CycleGAN). Each takes the learner's function and raises WrongAnswer on a mistake."""

from __future__ import annotations

import torch
from torch import nn

from ..image_pool import ImagePool
from ..losses import cycle_consistency_loss, identity_loss, lsgan_d_loss, lsgan_g_loss
from . import expect, refuses


class _Affine(nn.Module):
    """A stand-in generator, y = scale * x + shift, different for each direction so mix-ups show."""

    def __init__(self, scale: float, shift: float, learnable: bool = False):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(scale)) if learnable else scale  # learnable: does G learn?
        self.shift = shift

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * x + self.shift


def _generators(learnable: bool = False):
    # G_AB, G_BA: G_BA(G_AB(x)) = 0.75 x + 0.25
    return _Affine(0.5, 0.3, learnable), _Affine(1.5, -0.2, learnable)


def _images(seed: int):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(4, 1, 8, 8, generator=g) * 2 - 1, torch.rand(6, 1, 8, 8, generator=g) * 2 - 1


def _scalar(value, what: str) -> float:
    expect(
        isinstance(value, torch.Tensor) and value.numel() == 1,
        f"return {what} as a one-number tensor (e.g. a .mean()), got {type(value).__name__}",
    )
    return float(value)


@refuses(
    cycle_consistency_loss,
    hint="write the L1 distance yourself with .abs().mean(): toolkit.losses.cycle_consistency_loss is "
    "what the check compares with",
)
def check_cycle_loss(cycle_loss) -> None:
    """``cycle_loss(a, b, G_AB, G_BA)``: E|G_BA(G_AB(a)) - a|_1 + E|G_AB(G_BA(b)) - b|_1 (paper eq. 2),
    each term a mean over pixels."""
    G_AB, G_BA = _generators()
    a, b = _images(10)
    got = _scalar(cycle_loss(a, b, G_AB, G_BA), "the loss")
    forward = (G_BA(G_AB(a)) - a).abs().mean()
    backward = (G_AB(G_BA(b)) - b).abs().mean()
    want = float(forward + backward)
    if abs(got - want) < 1e-5:
        ident = nn.Identity()
        expect(
            abs(_scalar(cycle_loss(a, b, ident, ident), "the loss")) < 1e-6,
            "with identity generators the cycle loss must be 0",
        )
        return
    near = lambda x: abs(got - float(x)) < 1e-5  # noqa: E731
    expect(
        not (near(forward) or near(backward)),
        "you have one direction only: add the backward cycle, G_AB(G_BA(b)) against b",
    )
    expect(
        not near((G_BA(G_AB(a)) - a).pow(2).mean() + (G_AB(G_BA(b)) - b).pow(2).mean()),
        "the cycle loss is an L1 distance (absolute difference), not a squared one",
    )
    expect(
        not near((G_AB(a) - a).abs().mean() + (G_BA(b) - b).abs().mean()),
        "compare each image with its round trip: translate there (G_AB) *and back* (G_BA), then with a",
    )
    expect(
        not near((G_AB(G_AB(a)) - a).abs().mean() + (G_BA(G_BA(b)) - b).abs().mean()),
        "the way back uses the other generator: a goes through G_AB, then G_BA",
    )
    expect(
        not near((G_AB(G_BA(a)) - a).abs().mean() + (G_BA(G_AB(b)) - b).abs().mean()),
        "a is an A image, so it goes through G_AB first (A -> B), then back through G_BA",
    )
    expect(
        not near((G_BA(G_AB(a)) - a).abs().sum() + (G_AB(G_BA(b)) - b).abs().sum()),
        "take the mean over pixels (and images), not the sum",
    )
    expect(
        not near((forward + backward) / 2),
        "add the two directions; do not average them",
    )
    expect(False, f"expected E|G_BA(G_AB(a)) - a| + E|G_AB(G_BA(b)) - b| = {want:.4f}, got {got:.4f}")


@refuses(
    identity_loss,
    cycle_consistency_loss,
    hint="write the L1 distances yourself with .abs().mean(): toolkit.losses.identity_loss is what the check "
    "compares with",
)
def check_identity_loss(identity_term) -> None:
    """``identity_term(a, b, G_AB, G_BA)``: E|G_AB(b) - b|_1 + E|G_BA(a) - a|_1 (paper section 5.2): each
    generator is fed an image already of its *target* domain and should leave it alone."""
    G_AB, G_BA = _generators()
    a, b = _images(11)
    got = _scalar(identity_term(a, b, G_AB, G_BA), "the loss")
    want = float((G_AB(b) - b).abs().mean() + (G_BA(a) - a).abs().mean())
    if abs(got - want) < 1e-5:
        reference = _identity_gradients(
            lambda a, b, G_AB, G_BA: (G_AB(b) - b).abs().mean() + (G_BA(a) - a).abs().mean()
        )
        got_grads = _identity_gradients(identity_term)
        expect(
            all(g is not None and torch.allclose(g, r) for g, r in zip(got_grads, reference)),
            "both generators must learn from the identity term: keep it in the graph (no .item(), .detach() "
            "or torch.no_grad()), G_AB's weights through G_AB(b) and G_BA's through G_BA(a)",
        )
        return
    near = lambda x: abs(got - float(x)) < 1e-5  # noqa: E731
    expect(
        not near((G_AB(a) - a).abs().mean() + (G_BA(b) - b).abs().mean()),
        "feed each generator an image of its *target* domain: G_AB (A -> B) gets b, G_BA gets a; "
        "an A image is supposed to change under G_AB",
    )
    expect(
        not (near((G_AB(b) - b).abs().mean()) or near((G_BA(a) - a).abs().mean())),
        "the identity loss has a term for each generator: G_AB(b) against b and G_BA(a) against a",
    )
    expect(
        not near((G_AB(b) - b).pow(2).mean() + (G_BA(a) - a).pow(2).mean()),
        "the identity loss is an L1 distance (absolute difference), not a squared one",
    )
    expect(
        not near(5 * want) and not near(10 * want) and not near(0.5 * want),
        "return the plain term; its weight (lambda * lambda_idt = 5) is applied by whoever adds it up",
    )
    expect(False, f"expected E|G_AB(b) - b| + E|G_BA(a) - a| = {want:.4f}, got {got:.4f}")


def _identity_gradients(identity_term) -> list:
    """The gradient each generator's weight gets from the identity term (None: none reaches it)."""
    G_AB, G_BA = _generators(learnable=True)
    a, b = _images(11)
    loss = identity_term(a, b, G_AB, G_BA)
    if not (isinstance(loss, torch.Tensor) and loss.requires_grad):
        return [None, None]
    loss.backward()
    return [G.scale.grad for G in (G_AB, G_BA)]


@refuses(
    lsgan_d_loss,
    lsgan_g_loss,
    hint="write the squared errors yourself: toolkit.losses' lsgan_d_loss and lsgan_g_loss are what the "
    "check compares with",
)
def check_lsgan_losses(lsgan_losses) -> None:
    """``lsgan_losses(d_real, d_fake)`` -> (d_loss, g_loss), CycleGAN's least-squares objective:
    d_loss = 0.5 * (E[(D(real) - 1)^2] + E[D(fake)^2]), g_loss = E[(D(fake) - 1)^2]."""
    half = torch.full((3, 1, 4, 4), 0.5)
    out = lsgan_losses(half, half)
    expect(isinstance(out, tuple) and len(out) == 2, "return a pair (d_loss, g_loss)")
    d_half, g_half = _scalar(out[0], "d_loss"), _scalar(out[1], "g_loss")
    g = torch.Generator().manual_seed(12)
    real, fake = (
        torch.rand(5, 1, 4, 4, generator=g) * 1.4 - 0.2,
        torch.rand(5, 1, 4, 4, generator=g) * 1.4 - 0.2,
    )
    d, gl = (_scalar(v, n) for v, n in zip(lsgan_losses(real, fake), ("d_loss", "g_loss")))
    want_d = float(0.5 * ((real - 1).pow(2).mean() + fake.pow(2).mean()))
    want_g = float((fake - 1).pow(2).mean())
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    expect(
        abs(d - float(bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake)))) > 1e-5
        and abs(d - 0.5 * float(bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake)))) > 1e-5,
        "that is the log (cross-entropy) loss; CycleGAN's is least squares: D's outputs regress to 1 and 0",
    )
    if abs(d_half - 0.5) < 1e-5 and abs(d - 2 * want_d) < 1e-5:
        expect(False, "halve D's loss (the reference multiplies it by 0.5, so D learns at half G's pace)")
    expect(
        abs(d - float(0.5 * (real.pow(2).mean() + (fake - 1).pow(2).mean()))) > 1e-5,
        "D's targets are the other way round: 1 for real images, 0 for generated ones",
    )
    expect(
        abs(gl - float(fake.pow(2).mean())) > 1e-5,
        "G wants D to call its images real: its target is 1, g_loss = E[(D(fake) - 1)^2]",
    )
    expect(
        abs(gl - float((real - 1).pow(2).mean())) > 1e-5,
        "G's loss depends on D's outputs on the *generated* images only",
    )
    expect(
        abs(gl - float(-(fake - 1).pow(2).mean())) > 1e-5 and abs(gl - float(-fake.pow(2).mean())) > 1e-5,
        "G's least-squares loss is minimised, not a negated D loss: E[(D(fake) - 1)^2]",
    )
    expect(abs(d - want_d) < 1e-5, f"d_loss: expected 0.5 * (E[(D(real)-1)^2] + E[D(fake)^2]) = {want_d:.4f}")
    expect(abs(gl - want_g) < 1e-5, f"g_loss: expected E[(D(fake)-1)^2] = {want_g:.4f}")
    expect(
        abs(d_half - 0.25) < 1e-6 and abs(g_half - 0.25) < 1e-6,
        "with D = 0.5 everywhere both losses are 0.25",
    )
    real, fake = real.clone().requires_grad_(True), fake.clone().requires_grad_(True)
    d_loss, g_loss = lsgan_losses(real, fake)
    expect(
        d_loss.requires_grad and g_loss.requires_grad,
        "the losses must keep their gradient (no .item(), .detach() or torch.no_grad()): D and G learn "
        "from them",
    )
    n = real.numel()
    d_real, d_fake = torch.autograd.grad(d_loss, (real, fake), allow_unused=True)
    expect(
        d_real is not None
        and d_fake is not None
        and torch.allclose(d_real, (real - 1) / n)
        and torch.allclose(d_fake, fake / n),
        "D's loss must send gradient to D's outputs on the real *and* on the generated images",
    )
    g_real, g_fake = torch.autograd.grad(g_loss, (real, fake), allow_unused=True)
    expect(
        g_fake is not None
        and torch.allclose(g_fake, 2 * (fake - 1) / n)
        and (g_real is None or not g_real.any()),
        "G's loss must send gradient to D's outputs on the generated images, and only to those",
    )


@refuses(
    ImagePool.query,
    hint="write the pool's rule yourself with torch.rand and random.randrange: the toolkit's ImagePool is "
    "what the check compares with",
)
def check_pool_query(pool_query) -> None:
    """``pool_query(stored, fakes, size)``: the image pool of the reference (``stored`` is a list of
    single images the function may change). Size 0 returns the fakes; while the pool holds fewer than
    ``size`` images each new fake is stored and returned as is; after that each new fake, with
    probability 1/2, is returned as is, else a random stored image is returned and the fake takes its
    place. Everything returned is detached from the graph."""
    torch.manual_seed(13)
    fakes = torch.randn(4, 1, 2, 2, requires_grad=True)
    stored: list = []
    out = pool_query(stored, fakes, 0)
    expect(
        isinstance(out, torch.Tensor) and out.shape == fakes.shape,
        f"return a batch of the fakes' shape {tuple(fakes.shape)}",
    )
    expect(torch.equal(out.detach(), fakes.detach()), "a pool of size 0 passes the fakes through unchanged")
    expect(not out.requires_grad, "detach what you return (fakes.detach()): the pool only feeds D's update")
    expect(len(stored) == 0, "a pool of size 0 stores nothing")

    size, seen, returned_old = 10, [], 0
    stored = []
    for step in range(40):
        fakes = torch.randn(3, 1, 2, 2, requires_grad=True) + 100 * (step + 1)  # each batch recognisable
        before = [s.detach().clone() for s in stored]
        out = pool_query(stored, fakes, size)
        expect(
            isinstance(out, torch.Tensor) and out.shape == fakes.shape,
            f"return a batch of the fakes' shape {tuple(fakes.shape)}",
        )
        expect(
            not out.requires_grad, "detach what you return (fakes.detach()): the pool only feeds D's update"
        )
        expect(len(stored) <= size, f"the pool must never hold more than size = {size} images")
        if len(before) + len(fakes) <= size:
            expect(
                torch.equal(out, fakes.detach()),
                "while the pool is filling, return each new fake as is (and store it)",
            )
            expect(len(stored) == len(before) + len(fakes), "while the pool is filling, store every new fake")
        fresh = fakes.detach()
        for i, image in enumerate(out):
            new = torch.equal(image, fresh[i])
            # a stored image: from before this call, or a fake of this batch stored a moment earlier
            old = any(torch.equal(image, s) for s in [*before, *fresh[:i]])
            expect(new or old, "return each new fake or one of the images stored before it")
            if old and not new:
                returned_old += 1
                expect(
                    any(torch.equal(fresh[i], s.detach()) for s in [*stored, *out[i + 1 :]]),
                    "when you return a stored image, put the new fake in its place",
                )
        seen.append(len(stored))
    expect(seen[-1] == size, f"once full the pool keeps exactly size = {size} images")
    share = returned_old / (40 * 3 - size)  # of the images queried once the pool was full
    expect(returned_old > 0, "once the pool is full, return a stored (older) image about half the time")
    expect(
        0.25 < share < 0.75,
        f"once full, about half of the returned images should be older ones; you returned {share:.0%}",
    )
