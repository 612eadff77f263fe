"""Class-conditional models, ACGAN, the WGAN critics and the Diffusion-GAN D."""

import pytest
import torch

from toolkit.errors import ToolkitError
from toolkit.models import build_models, is_conditional
from toolkit.models.conditional import ConditionalDiscriminator, ConditionalGenerator
from toolkit.models.dcgan import DCGANGenerator
from toolkit.models.timestep import TimestepDiscriminator


def test_cgan_generator_and_projection_discriminator_shapes():
    G, D = build_models("cgan", (1, 32, 32), z_dim=16, width=8, num_classes=10)
    assert is_conditional(G)
    y = torch.arange(4)
    x = G(torch.randn(4, 16), y)
    assert x.shape == (4, 1, 32, 32) and D(x, y).shape == (4,)


@pytest.mark.parametrize("mode", ["cbn", "concat"])
def test_the_label_changes_the_image(mode):
    G = ConditionalGenerator(16, 1, 32, 8, num_classes=10, mode=mode).eval()
    z = torch.randn(1, 16).repeat(2, 1)
    with torch.no_grad():
        a, b = G(z, torch.tensor([0, 3]))
    assert not torch.allclose(a, b)


def test_concat_generator_is_a_dcgan_on_z_joined_with_the_label_embedding():
    G = ConditionalGenerator(16, 1, 32, 8, num_classes=10, mode="concat").eval()
    plain = DCGANGenerator(16 + 16, 1, 32, 8).eval()
    plain.load_state_dict(G.body.state_dict())
    z, y = torch.randn(3, 16), torch.tensor([1, 5, 9])
    with torch.no_grad():
        assert torch.allclose(G(z, y), plain(torch.cat([z, G.embed(y)], 1)))


def test_projection_is_an_inner_product_with_the_label_embedding():
    """D(x, y) - D(x, y') = <embed(y) - embed(y'), phi(x)> (Miyato & Koyama eq. 3)."""
    D = ConditionalDiscriminator(1, 32, 8, num_classes=10, mode="projection").eval()
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        phi = D.body.features(x).flatten(1)
        diff = D(x, torch.tensor([2, 2])) - D(x, torch.tensor([7, 7]))
        expected = ((D.embed.weight[2] - D.embed.weight[7]) * phi).sum(1)
    assert torch.allclose(diff, expected, atol=1e-5)


def test_acgan_discriminator_returns_logit_and_class_logits():
    G, D = build_models("acgan", (1, 32, 32), z_dim=16, width=8, num_classes=10)
    logit, classes = D(G(torch.randn(3, 16), torch.tensor([0, 1, 2])))
    assert logit.shape == (3,) and classes.shape == (3, 10)


def test_conditional_input_errors_are_clear():
    G, D = build_models("cgan", (1, 32, 32), z_dim=16, width=8, num_classes=10)
    with pytest.raises(ToolkitError, match="labels must be in 0..9"):
        G(torch.randn(2, 16), torch.tensor([0, 10]))
    with pytest.raises(ToolkitError, match="2 labels for 3 samples"):
        G(torch.randn(3, 16), torch.tensor([0, 1]))
    with pytest.raises(ToolkitError, match="D\\(x, y\\)"):
        D(torch.zeros(2, 1, 32, 32))
    with pytest.raises(ToolkitError, match="no labels"):
        build_models("cgan", (1, 32, 32), num_classes=0)
    with pytest.raises(ToolkitError, match="unknown model"):
        build_models("stylegan", (1, 32, 32))


def test_without_labels_a_conditional_generator_draws_balanced_classes():
    G = ConditionalGenerator(16, 1, 32, 8, num_classes=10).eval()
    z = torch.randn(20, 16)
    with torch.no_grad():
        assert torch.equal(G(z), G(z, torch.arange(20) % 10))


def test_wgan_critics_have_no_batch_norm():
    for name in ("wgan", "wgan-gp"):
        _, D = build_models(name, (1, 32, 32), width=8)
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in D.modules()), name
    _, D = build_models("wgan-gp", (1, 32, 32), width=8)
    assert any(isinstance(m, torch.nn.GroupNorm) for m in D.modules())
    G, D = build_models("wgan-gp", (2,), width=8, kind="points")  # the toy ring: MLPs
    assert D(G(torch.randn(5, 64))).shape == (5,)


def test_timestep_discriminator_depends_on_t():
    D = TimestepDiscriminator(1, 32, 8, t_max=100).eval()
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        torch.nn.init.normal_(D.embed[2].weight, 0, 1.0)
        assert not torch.allclose(D(x, torch.tensor([0, 0])), D(x, torch.tensor([90, 90])))
        assert torch.equal(D(x), D(x, torch.zeros(2)))


@pytest.mark.parametrize("mode", ["cbn", "concat"])
def test_soft_labels_interpolate_between_classes(mode):
    G = ConditionalGenerator(16, 1, 32, 8, num_classes=10, mode=mode).eval()
    z = torch.randn(2, 16)
    one_hot = torch.nn.functional.one_hot(torch.tensor([3, 3]), 10).float()
    with torch.no_grad():
        assert torch.allclose(
            G(z, one_hot), G(z, torch.tensor([3, 3])), atol=1e-6
        )  # one-hot = the hard label
        mixed = G(z, 0.5 * one_hot + 0.5 * torch.nn.functional.one_hot(torch.tensor([7, 7]), 10).float())
    assert mixed.shape == (2, 1, 32, 32)
    with pytest.raises(ToolkitError, match="soft labels must have shape"):
        G(z, torch.ones(2, 3))
