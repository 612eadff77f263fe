"""Perceptual and style losses against hand-computed values; backbones (VGG from a local file), frozen."""

from __future__ import annotations

import pytest
import torch
import torchvision

from toolkit.backbones import (
    BACKBONES,
    VGG_FILES,
    best_backbone,
    load_backbone,
    vgg_features,
    vgg_layer_names,
    vgg_weights_path,
)
from toolkit.errors import ToolkitError
from toolkit.perceptual import gram_matrix, perceptual_loss, style_grams, style_loss, total_variation_loss


# --- the losses, by hand -------------------------------------------------------------------------
def test_gram_matrix_hand_values():
    assert torch.allclose(gram_matrix(torch.ones(1, 2, 2, 2)), torch.full((1, 2, 2), 0.5))
    expected = torch.tensor([[1.75, 4.75], [4.75, 15.75]])  # [0..3].[0..3]/8 = 14/8, [0..3].[4..7]/8 = 38/8
    assert torch.allclose(gram_matrix(torch.arange(8.0).view(1, 2, 2, 2))[0], expected)


def test_gram_matrix_is_per_image_symmetric_and_ignores_where():
    g = torch.Generator().manual_seed(0)
    f = torch.randn(3, 4, 5, 6, generator=g)
    gram = gram_matrix(f)
    assert gram.shape == (3, 4, 4)
    assert torch.allclose(gram, gram.transpose(1, 2))
    assert torch.allclose(gram[1], gram_matrix(f[1:2])[0])  # no mixing across the batch
    shuffled = f.flatten(2)[:, :, torch.randperm(30, generator=g)].view_as(f)
    assert torch.allclose(gram_matrix(shuffled), gram, atol=1e-6)


def test_perceptual_loss_is_weighted_mean_squared_difference():
    a = {"x": torch.zeros(2, 1, 2, 2), "y": torch.zeros(1, 2, 1, 1)}
    b = {"x": torch.full((2, 1, 2, 2), 2.0), "y": torch.ones(1, 2, 1, 1)}
    assert float(perceptual_loss(a, b)) == pytest.approx(4.0 + 1.0)
    assert float(perceptual_loss(a, b, {"x": 0.5})) == pytest.approx(2.0 + 1.0)


def test_style_loss_is_squared_frobenius_distance_of_grams():
    f = torch.ones(2, 2, 2, 2)  # Gram: all 0.5
    target = {"s": torch.zeros(1, 2, 2)}  # broadcast to the batch
    assert float(style_loss({"s": f}, target)) == pytest.approx(4 * 0.25)  # 4 entries of 0.5^2
    assert float(style_loss({"s": f}, style_grams({"s": f}))) == 0.0
    assert float(style_loss({"s": f}, target, {"s": 3.0})) == pytest.approx(3.0)


def test_total_variation_hand_values():
    assert float(total_variation_loss(torch.full((2, 3, 5, 5), 0.7))) == 0.0
    checker = torch.tensor([[0.0, 1.0], [1.0, 0.0]]).view(1, 1, 2, 2)
    assert float(total_variation_loss(checker)) == pytest.approx(2.0)
    ramp = torch.arange(4.0).view(1, 1, 1, 4)  # horizontal steps of 1, no vertical neighbours
    assert float(total_variation_loss(torch.cat([ramp, ramp], 2))) == pytest.approx(1.0)


# --- backbones -----------------------------------------------------------------------------------
def test_fmnist_backbone_layers_and_colour_per_channel():
    b = load_backbone("fmnist-cnn")
    grey = torch.rand(2, 1, 28, 28) * 2 - 1
    f = b(grey, ["relu1", "relu3"])
    assert (
        list(f) == ["relu1", "relu3"] and f["relu1"].shape == (2, 32, 28, 28) and f["relu3"].shape[1] == 128
    )
    rgb = torch.cat([grey, -grey, grey], 1)
    out = b(rgb, ["relu2"])["relu2"]
    assert out.shape[1] == 3 * 64  # R, G and B features side by side
    assert torch.allclose(out[:, :64], b(grey, ["relu2"])["relu2"])
    assert torch.allclose(out[:, 64:128], b(-grey, ["relu2"])["relu2"])
    with pytest.raises(ToolkitError, match="no layer relu9"):
        b(grey, ["relu9"])


def test_backbone_is_frozen_and_passes_gradient_to_the_image():
    b = load_backbone("fmnist-cnn").train()  # train() must not unfreeze batch norm
    assert not b.training and not any(p.requires_grad for p in b.parameters())
    before = [p.clone() for p in b.parameters()]
    image = (torch.rand(2, 1, 16, 16) * 2 - 1).requires_grad_(True)
    target = b(torch.zeros(2, 1, 16, 16), ["relu2"])
    loss = perceptual_loss(b(image, ["relu2"]), target)
    assert loss.requires_grad  # the Lornatang bug: a loss rebuilt as a new tensor passes no gradient
    loss.backward()
    assert image.grad is not None and image.grad.abs().sum() > 0
    torch.optim.SGD([image], lr=1.0).step()
    assert all(torch.equal(p, q) for p, q in zip(before, b.parameters()))


def test_vgg_layer_names_match_torchvision_indices():
    names16, names19 = vgg_layer_names("vgg16"), vgg_layer_names("vgg19")
    assert (names16["relu1_2"], names16["relu2_2"], names16["relu3_3"], names16["relu4_3"]) == (3, 8, 15, 22)
    assert (names16["relu5_3"], names16["pool5"]) == (29, 30)
    assert (names19["relu2_2"], names19["relu3_4"], names19["relu4_4"], names19["relu5_4"]) == (8, 17, 26, 35)
    tv19 = torchvision.models.vgg19(weights=None).features
    for name, i in names19.items():
        kind = {"conv": torch.nn.Conv2d, "relu": torch.nn.ReLU, "pool": torch.nn.MaxPool2d}[
            name[:4].rstrip("_1234")
        ]
        assert isinstance(tv19[i], kind), name
    assert len(vgg_features("vgg19")) == len(tv19)


def test_vgg16_loads_a_torchvision_weight_file_and_matches_torchvision(tmp_path, monkeypatch):
    """The standard file format (torchvision's whole state dict), saved locally with random weights."""
    torch.manual_seed(0)
    reference = torchvision.models.vgg16(weights=None).eval()
    hub = tmp_path / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    torch.save(reference.state_dict(), hub / VGG_FILES["vgg16"])
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv("TOOLKIT_VGG16_WEIGHTS", raising=False)
    assert vgg_weights_path("vgg16") == hub / VGG_FILES["vgg16"]  # found in the hub cache
    assert best_backbone() == "vgg16"
    b = load_backbone("vgg16")
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = reference.features[:23](((images + 1) / 2 - mean) / std)
    assert torch.allclose(b(images, ["relu4_3"])["relu4_3"], expected, atol=1e-5)
    grey = b(images[:, :1], ["relu1_2"])["relu1_2"]  # grey images are repeated to RGB
    assert torch.allclose(grey, b(images[:, :1].expand(-1, 3, -1, -1), ["relu1_2"])["relu1_2"])


def test_vgg19_loads_a_features_only_file_given_by_path(tmp_path):
    net = vgg_features("vgg19")
    path = tmp_path / "my_vgg19.pth"
    torch.save(net.state_dict(), path)  # keys "0.weight", ... without the "features." prefix
    b = load_backbone("vgg19", path=path)
    assert b.deepest == "relu5_4" and b(torch.zeros(1, 3, 32, 32), ["relu5_4"])["relu5_4"].shape == (
        1,
        512,
        2,
        2,
    )


def test_missing_or_bad_vgg_weights_give_one_line_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv("TOOLKIT_VGG19_WEIGHTS", raising=False)
    with pytest.raises(ToolkitError) as err:
        load_backbone("vgg19")
    message = str(err.value)
    assert (
        "\n" not in message
        and VGG_FILES["vgg19"] in message
        and str(tmp_path / "hub" / "checkpoints") in message
    )
    assert best_backbone() == "fmnist-cnn"
    bad = tmp_path / "bad.pth"
    torch.save({"something": torch.zeros(1)}, bad)
    with pytest.raises(ToolkitError, match="is not a torchvision vgg19 weight file"):
        load_backbone("vgg19", path=bad)
    with pytest.raises(ToolkitError, match="unknown backbone"):
        load_backbone("resnet")
    assert set(BACKBONES) == {"fmnist-cnn", "vgg16", "vgg19"}
