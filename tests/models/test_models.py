import pytest
import torch

from toolkit.errors import ToolkitError
from toolkit.models import build_models


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("resolution", [32, 64])
def test_dcgan_shapes(channels, resolution):
    G, D = build_models("dcgan", (channels, resolution, resolution), z_dim=16, width=8)
    images = G(torch.randn(5, 16))
    assert images.shape == (5, channels, resolution, resolution)
    assert images.min() >= -1 and images.max() <= 1  # tanh output matches data scaled to [-1, 1]
    assert D(images).shape == (5,)


def test_dcgan_follows_the_paper_init_and_halving_widths():
    G, D = build_models("dcgan", (1, 32, 32), z_dim=64, width=32)
    convs = [m for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [c.out_channels for c in convs] == [128, 64, 32, 1]
    assert abs(convs[1].weight.std().item() - 0.02) < 0.002  # N(0, 0.02)
    first_conv = next(m for m in D.modules() if isinstance(m, torch.nn.Conv2d))
    after_first = list(D.features)[1]
    assert isinstance(after_first, torch.nn.LeakyReLU)  # no batch norm on D's input layer
    assert first_conv.in_channels == 1


def test_mlp_for_points_and_images():
    G, D = build_models("mlp", (2,), z_dim=2, width=64, kind="points")
    pts = G(torch.randn(7, 2))
    assert pts.shape == (7, 2) and D(pts).shape == (7,)
    G, D = build_models("mlp", (1, 32, 32), z_dim=8, width=32)
    assert G(torch.randn(3, 8)).shape == (3, 1, 32, 32) and D(torch.zeros(3, 1, 32, 32)).shape == (3,)


def test_bad_model_requests_are_clear():
    with pytest.raises(ToolkitError, match="DCGAN supports resolutions"):
        build_models("dcgan", (1, 48, 48))
    with pytest.raises(ToolkitError, match="for 2-D points"):
        build_models("dcgan", (2,), kind="points")
    with pytest.raises(ToolkitError, match="unknown model 'biggan'"):
        build_models("biggan", (1, 32, 32))
