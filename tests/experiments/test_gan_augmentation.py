"""experiments/gan_augmentation.py: the domain gap's data set (real images labelled 0, as many generated ones
of the rare classes labelled 1) and the table's mean and spread."""

import pytest
import torch
from torch import nn

from . import load_experiment

gan_augmentation = load_experiment("gan_augmentation")


class PaintsItsClass(nn.Module):
    """A conditional 'generator' whose image is its class index everywhere plus a trace of z, so a test can
    read which class each image was asked for and whether the latents were seeded."""

    num_classes = 10

    def __init__(self):
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(1))  # generate() reads the device from a parameter

    def forward(self, z, labels):
        return labels.float().view(-1, 1, 1, 1).expand(-1, 1, 4, 4) + 1e-3 * z[:, :1].view(-1, 1, 1, 1)


@pytest.mark.parametrize("n_real", [64, 65, 7])
def test_real_vs_generated_labels_real_0_and_as_many_generated_1_from_the_rare_classes(n_real):
    rare = [3, 4]
    real = torch.full((n_real, 1, 4, 4), -1.0)
    x, y = gan_augmentation.real_vs_generated(PaintsItsClass(), 8, rare, real, seed=200)
    assert x.shape == (2 * n_real, 1, 4, 4) and y.dtype == torch.long
    assert y[:n_real].eq(0).all() and y[n_real:].eq(1).all()  # real first, labelled 0; generated 1
    assert torch.equal(x[:n_real], real)  # the real images untouched
    asked = x[n_real:, 0, 0, 0].round().long()
    assert set(asked.tolist()) <= set(rare)  # only the rare classes were asked for
    counts = [int((asked == c).sum()) for c in rare]
    assert counts[0] == n_real // 2 + 1 and sum(counts) == n_real  # per class n // k + 1, the rest cut


def test_real_vs_generated_is_seeded():
    real = torch.zeros(20, 1, 4, 4)
    G = PaintsItsClass()
    a = gan_augmentation.real_vs_generated(G, 8, [3, 4], real, seed=1)[0]
    assert torch.equal(a, gan_augmentation.real_vs_generated(G, 8, [3, 4], real, seed=1)[0])
    assert not torch.equal(a, gan_augmentation.real_vs_generated(G, 8, [3, 4], real, seed=2)[0])


def test_mean_std_over_seeds():
    d = gan_augmentation.mean_std([0.5, 0.7, 0.9])
    assert (
        d["mean"] == pytest.approx(0.7) and d["std"] == pytest.approx(0.2) and d["values"] == [0.5, 0.7, 0.9]
    )
    assert gan_augmentation.mean_std([0.4])["std"] == 0.0
