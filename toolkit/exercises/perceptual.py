"""Checks for lesson 12 (perceptual losses). Each takes the learner's function and raises WrongAnswer on a
mistake. The reference forms are ``toolkit/perceptual.py``'s: the Gram matrix F F^T / (C H W) per image,
the squared Frobenius distance of Gram matrices summed over layers and averaged over the batch, and total
variation as the mean squared vertical plus the mean squared horizontal neighbour difference."""

from __future__ import annotations

import torch

from ..perceptual import gram_matrix, style_grams, style_loss, total_variation_loss
from . import expect, refuses


def _tensor_result(value, what: str) -> torch.Tensor:
    expect(isinstance(value, torch.Tensor), f"return a torch tensor ({what}), not {type(value).__name__}")
    return value.detach().double()


@refuses(
    gram_matrix,
    hint="write it yourself with reshape and a batched matrix product: the toolkit's gram_matrix is what "
    "the check compares with",
)
def check_gram_matrix(gram_matrix) -> None:
    """``gram_matrix(features)``: (N, C, H, W) -> (N, C, C), F F^T / (C H W) for each image."""
    ones = _tensor_result(gram_matrix(torch.ones(1, 2, 2, 2)), "(N, C, C) Gram matrices")
    ar = torch.arange(8.0).view(1, 2, 2, 2)
    g = torch.Generator().manual_seed(12)
    feats = torch.rand(3, 4, 5, 6, generator=g) * 2  # a batch; H != W
    n, c, h, w = feats.shape
    f = feats.reshape(n, c, h * w)
    want = f @ f.transpose(1, 2) / (c * h * w)
    got = _tensor_result(gram_matrix(feats), "(N, C, C) Gram matrices")
    expect(
        got.shape != (n, h * w, h * w),
        f"got shape {tuple(got.shape)}: that is F^T F (pixels x pixels); the Gram matrix is F F^T, "
        "channels x channels: f @ f.transpose(1, 2) with f of shape (N, C, H*W)",
    )
    expect(
        got.shape != (c, c),
        f"got one {c}x{c} matrix for a batch of {n}: compute one Gram matrix per image, shape (N, C, C); "
        "flatten each image's features with reshape(N, C, H*W), not the whole batch with view(C, -1)",
    )
    expect(got.shape == (n, c, c), f"for features of shape {tuple(feats.shape)} return ({n}, {c}, {c})")
    close = lambda x, y: torch.allclose(x, y.double(), rtol=1e-5, atol=1e-7)  # noqa: E731
    if not close(got, want):
        hints = [
            (want * (c * h * w), "normalise: divide F F^T by C * H * W (Johnson et al.'s form)"),
            (want * c, "divide by C * H * W, not only by H * W"),
            (
                want / n,
                "divide by C * H * W only: dividing by the batch size too (the PyTorch tutorial's "
                "form) makes one image's Gram matrix depend on how many images share its batch",
            ),
            (want * h * w, "divide by C * H * W, not only by C"),
        ]
        for value, hint in hints:
            expect(not close(got, value), hint)
        mixed = feats.transpose(0, 1).reshape(c, -1)
        expect(
            not close(got, (mixed @ mixed.T / (c * h * w * n)).expand(n, c, c)),
            "each image gets its own Gram matrix: do not mix the images of the batch",
        )
        expect(
            False,
            "the Gram matrix is f @ f.transpose(1, 2) / (C * H * W) with f = features.reshape(N, C, H*W)",
        )
    expect(
        close(ones, torch.full((1, 2, 2), 0.5)),
        "features of all ones (1, 2, 2, 2) should give 0.5 everywhere",
    )
    expect(
        close(_tensor_result(gram_matrix(ar), "Gram"), torch.tensor([[[1.75, 4.75], [4.75, 15.75]]])),
        "arange(8).view(1, 2, 2, 2) should give [[1.75, 4.75], [4.75, 15.75]]",
    )
    x = feats.clone().requires_grad_(True)
    out = gram_matrix(x)
    expect(
        out.requires_grad, "the result must keep its gradient: use torch operations, no .detach() or numpy"
    )


@refuses(
    gram_matrix,
    hint="centre the features and write the product yourself: the toolkit's gram_matrix is what the check "
    "compares with",
)
def check_centred_gram(centred_gram) -> None:
    """``centred_gram(features)``: (N, C, H, W) -> (N, C, C), the Gram matrix of the features with each
    image's channel means (over H and W) subtracted first, (F - mu)(F - mu)^T / (C H W): the features'
    covariance, without the mean activations that section 2's Gram matrix also carries."""
    g = torch.Generator().manual_seed(121)
    feats = torch.rand(3, 4, 5, 6, generator=g) * 2 + torch.arange(3.0).view(
        3, 1, 1, 1
    )  # images' means differ
    n, c, h, w = feats.shape
    f = feats.reshape(n, c, h * w)
    centred = f - f.mean(2, keepdim=True)
    want = centred @ centred.transpose(1, 2) / (c * h * w)
    got = _tensor_result(centred_gram(feats), "(N, C, C) centred Gram matrices")
    expect(got.shape == (n, c, c), f"for features of shape {tuple(feats.shape)} return ({n}, {c}, {c})")
    close = lambda x, y: torch.allclose(x, y.double(), rtol=1e-5, atol=1e-7)  # noqa: E731
    if not close(got, want):
        batch_centred = f - f.mean(dim=(0, 2), keepdim=True)
        channel_centred = f - f.mean(1, keepdim=True)
        hints = [
            (
                f @ f.transpose(1, 2) / (c * h * w),
                "that is section 2's Gram matrix: subtract each channel's mean over the pixels first",
            ),
            (
                batch_centred @ batch_centred.transpose(1, 2) / (c * h * w),
                "subtract each image's own channel means (the mean over H and W only), not the batch's",
            ),
            (
                channel_centred @ channel_centred.transpose(1, 2) / (c * h * w),
                "subtract each channel's mean over the pixels (dim 2 of (N, C, H*W)), not the mean over the "
                "channels",
            ),
            (want * (c * h * w), "normalise: divide by C * H * W, as section 2 did"),
            (
                want * (c * h * w) / (h * w - 1),
                "divide by C * H * W, as section 2 did, not by the unbiased H * W - 1",
            ),
        ]
        for value, hint in hints:
            expect(not close(got, value), hint)
        expect(False, "the centred Gram matrix is fc @ fc.transpose(1, 2) / (C * H * W), fc = f - f.mean(2)")
    expect(
        close(_tensor_result(centred_gram(torch.ones(1, 2, 2, 2)), "Gram"), torch.zeros(1, 2, 2)),
        "features of all ones (1, 2, 2, 2) do not vary, so their centred Gram matrix is 0 everywhere",
    )
    expect(
        close(
            _tensor_result(centred_gram(torch.arange(8.0).view(1, 2, 2, 2)), "Gram"),
            torch.full((1, 2, 2), 0.625),
        ),
        "arange(8).view(1, 2, 2, 2) should give 0.625 everywhere",
    )
    x = feats.clone().requires_grad_(True)
    expect(
        centred_gram(x).requires_grad,
        "the result must keep its gradient: use torch operations, no .detach() or numpy",
    )


@refuses(
    total_variation_loss,
    hint="write it yourself from neighbour differences: the toolkit's total_variation_loss is what the check "
    "compares with",
)
def check_total_variation(total_variation) -> None:
    """``total_variation(images)``: mean squared vertical + mean squared horizontal neighbour difference."""
    const = _tensor_result(total_variation(torch.full((2, 3, 5, 4), 0.7)), "one number")
    expect(const.dim() == 0, f"return one number (a 0-d tensor), got shape {tuple(const.shape)}")
    expect(
        abs(float(const)) < 1e-9,
        f"a constant image has no variation: it should give 0, got {float(const):.4g}",
    )
    checker = torch.tensor([[0.0, 1.0], [1.0, 0.0]]).view(1, 1, 2, 2)
    got_checker = float(_tensor_result(total_variation(checker), "one number"))
    g = torch.Generator().manual_seed(5)
    x = torch.rand(2, 3, 5, 7, generator=g) * 2 - 1
    dy, dx = x[..., 1:, :] - x[..., :-1, :], x[..., :, 1:] - x[..., :, :-1]
    want = dy.pow(2).mean() + dx.pow(2).mean()
    got = _tensor_result(total_variation(x), "one number")
    close = lambda v, y: torch.allclose(v, y.double(), rtol=1e-5, atol=1e-7)  # noqa: E731
    if not close(got, want):
        rolled = (x.roll(1, -2) - x).pow(2).mean() + (x.roll(1, -1) - x).pow(2).mean()
        hints = [
            (
                2 * want,
                "that is twice the toolkit's form (leftthomas/SRGAN's TVLoss): average each direction's "
                "squared differences, and add the two means",
            ),
            (dy.pow(2).sum() + dx.pow(2).sum(), "average the squared differences (.mean()), do not sum them"),
            (dy.abs().mean() + dx.abs().mean(), "square the differences (this is the squared form), not |d|"),
            (dy.pow(2).mean(), "add the horizontal differences too (along the last axis, W)"),
            (dx.pow(2).mean(), "add the vertical differences too (along H, the second-last axis)"),
            ((dy.pow(2).mean() + dx.pow(2).mean()) / 2, "add the two directions' means; do not average them"),
            (rolled, "compare each pixel with its real neighbour only: torch.roll wraps around the border"),
        ]
        for value, hint in hints:
            expect(not close(got, value), hint)
        expect(False, "total variation = (x[..., 1:, :] - x[..., :-1, :])^2 averaged + the same along W")
    expect(
        abs(got_checker - 2.0) < 1e-6,
        f"the checkerboard [[0, 1], [1, 0]] should give 2.0, got {got_checker:.4g}",
    )
    x = x.clone().requires_grad_(True)
    out = total_variation(x)
    expect(out.requires_grad, "the result must keep its gradient (it is a loss on the output image)")


@refuses(
    style_loss,
    style_grams,
    gram_matrix,
    hint="write it yourself, with your own Gram matrix: the toolkit's style_loss and gram_matrix are what "
    "the check compares with",
)
def check_style_loss(style_loss) -> None:
    """``style_loss(features, target_grams)``: sum over the layers of ``features`` of the squared Frobenius
    distance between each image's Gram matrix and the target's (1, C, C), averaged over the batch."""

    g = torch.Generator().manual_seed(31)
    features = {
        "relu1": torch.rand(3, 4, 6, 6, generator=g),
        "relu2": torch.rand(3, 8, 3, 3, generator=g) * 2,
    }
    targets = {k: gram_matrix(torch.rand(1, v.shape[1], 5, 5, generator=g)) for k, v in features.items()}
    feats = {k: v.clone().requires_grad_(True) for k, v in features.items()}
    loss = style_loss(feats, targets)
    got = _tensor_result(loss, "one number")
    expect(got.dim() == 0, f"return one number (a 0-d tensor), got shape {tuple(got.shape)}")
    per = {k: (gram_matrix(v) - targets[k]).pow(2).sum(dim=(1, 2)) for k, v in features.items()}  # (N,) each
    want = sum(p.mean() for p in per.values())
    close = lambda v, y: torch.allclose(v, y.double(), rtol=1e-5, atol=1e-9)  # noqa: E731
    if not close(got, want):
        hints = [
            (
                per["relu1"].mean(),
                "sum over every layer of features (relu1 and relu2 here), not only the first",
            ),
            (per["relu2"].mean(), "sum over every layer of features, not only the last"),
            (
                sum((gram_matrix(v) - targets[k]).pow(2).mean() for k, v in features.items()),
                "sum the squared differences over the C x C entries (the squared Frobenius norm), do not "
                "average them: mean over entries divides each layer by C^2",
            ),
            (
                sum(p.sqrt().mean() for p in per.values()),
                "square the Frobenius norm: ||G - T||_F^2, the sum of squared differences, no square root",
            ),
            (sum(p.sum() for p in per.values()), "average over the images of the batch, do not sum"),
            (
                sum((gram_matrix(v) - targets[k]).abs().sum(dim=(1, 2)).mean() for k, v in features.items()),
                "square the differences of the Gram matrices, not their absolute values",
            ),
        ]
        for value, hint in hints:
            expect(not close(got, value), hint)
        expect(
            False,
            "the style loss is the sum over layers of "
            "(gram_matrix(f) - target).pow(2).sum(dim=(1, 2)).mean()",
        )
    expect(loss.requires_grad, "the loss must keep its gradient: do not detach the features")
    loss.backward()
    expect(
        all(v.grad is not None and v.grad.abs().sum() > 0 for v in feats.values()),
        "every layer's features must receive a gradient from the loss",
    )
    zero = _tensor_result(
        style_loss({"relu1": features["relu1"][:1]}, {"relu1": gram_matrix(features["relu1"][:1])}),
        "one number",
    )
    expect(float(zero) < 1e-12, "an image compared with its own Gram matrices should give 0")
