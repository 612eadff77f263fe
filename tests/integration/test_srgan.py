"""SRResNet / SRGAN: the paper's layers, the family's losses and data, training that measurably improves,
starting SRGAN from an SRResNet run, exact resume, and the upscale and stylize commands."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import fashion_mnist_or_skip
from PIL import Image
from torch import nn

from toolkit.cli import main
from toolkit.data.super_resolution import bicubic_upscale, downscale, load_super_resolution
from toolkit.errors import ToolkitError
from toolkit.metrics.image_quality import psnr
from toolkit.models.srgan import ResidualBlock, SRDiscriminator, SRResNet, UpsampleBlock
from toolkit.training import Trainer, config_for
from toolkit.upscale import upscale_tensor

TINY = dict(blocks=2, width=16, d_width=8, batch_size=8, threads=1, log_every=2, sample_every=0)


# --- the nets --------------------------------------------------------------------------------------
def test_pixel_shuffle_order_and_srresnet_shapes():
    x = torch.arange(16.0).view(1, 4, 2, 2)
    y = nn.PixelShuffle(2)(x)
    assert y.shape == (1, 1, 4, 4) and y[0, 0, 0].tolist() == [0, 4, 1, 5]  # channel c*4 + i*2 + j -> (i, j)
    G = SRResNet(channels=3, scale=4)
    assert sum(isinstance(m, ResidualBlock) for m in G.modules()) == 16  # the paper's 16 blocks
    assert sum(isinstance(m, UpsampleBlock) for m in G.modules()) == 2  # log2(4)
    assert G(torch.zeros(1, 3, 24, 24)).shape == (1, 3, 96, 96)
    assert SRResNet(1, 4, 2, 8)(torch.zeros(2, 1, 7, 7)).shape == (2, 1, 28, 28)
    assert SRResNet(1, 2, 1, 8)(torch.zeros(1, 1, 5, 9)).shape == (1, 1, 10, 18)
    with pytest.raises(ValueError):
        SRResNet(scale=3)


def test_srgan_discriminator_layers_and_any_size():
    D = SRDiscriminator(3)
    convs = [m for m in D.features if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 64, 128, 128, 256, 256, 512, 512]
    assert [c.stride[0] for c in convs] == [1, 2] * 4
    assert sum(isinstance(m, nn.BatchNorm2d) for m in D.features) == 7  # all but the first conv
    dense = [m for m in D.head if isinstance(m, nn.Linear)]
    assert [(d.in_features, d.out_features) for d in dense] == [(512, 1024), (1024, 1)]
    assert D(torch.zeros(2, 3, 96, 96)).shape == (2,) and SRDiscriminator(1, 8)(
        torch.zeros(3, 1, 28, 28)
    ).shape == (3,)


# --- data ------------------------------------------------------------------------------------------
def test_fashion_pairs_are_the_bicubic_shrink_of_the_originals():
    fashion_mnist_or_skip()
    data = load_super_resolution("fashion-mnist", limit=40)
    assert (
        data.a.shape == (40, 1, 7, 7) and data.b.shape == (40, 1, 28, 28) and data.kind == "super-resolution"
    )
    assert torch.equal(data.a, downscale(data.b, 4))
    assert data.held_out[1].shape == (64, 1, 28, 28)  # held-out test images for the grids
    batch = data.sampler(8, seed=0, device="cpu").next()
    assert torch.equal(batch["A"], downscale(batch["B"], 4))  # pairs stay together
    assert type(data.subset(10, 0)).__name__ == "SuperResolutionData"


def test_photo_crops_split_and_own_folder(tmp_path):
    train = load_super_resolution("photos", resolution=64, limit=24)
    test = load_super_resolution("photos", split="test", resolution=64, limit=12)
    assert train.a.shape == (24, 3, 16, 16) and train.b.shape == (24, 3, 64, 64)
    assert not any(torch.equal(t, x) for t in test.b for x in train.b)
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (50 + 10 * i, 70, 3), dtype=np.uint8)).save(
            tmp_path / f"{i}.png"
        )
    Image.fromarray(rng.integers(0, 255, (20, 20), dtype=np.uint8)).save(tmp_path / "small.png")
    own = load_super_resolution(str(tmp_path), resolution=32, limit=12)
    assert own.b.shape == (12, 3, 32, 32) and own.a.shape == (12, 3, 8, 8)
    pixels = {tuple(np.asarray(Image.open(tmp_path / f"{i}.png"))[0, 0]) for i in range(3)}
    assert own.info["images"] == 4 and pixels  # the small image was scaled up, not refused


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(name="fashion-mnist", resolution=32), "28x28"),
        (dict(name="photos", resolution=30), "multiple of --scale 4"),
        (dict(name="photos", scale=3), "--scale must be 2, 4 or 8"),
        (dict(name="no-such-set"), "unknown super-resolution dataset"),
    ],
)
def test_bad_super_resolution_data_is_one_line(kwargs, message):
    with pytest.raises(ToolkitError, match=message):
        load_super_resolution(**kwargs)


# --- the family --------------------------------------------------------------------------------------
def test_presets_are_the_papers_objectives():
    res, gan = config_for("srresnet"), config_for("srgan")
    assert (res.pixel_weight, res.content_weight, res.adversarial_weight) == (1.0, 0.0, 0.0)
    assert (gan.pixel_weight, gan.content_weight, gan.adversarial_weight) == (0.0, 1.0, 1e-3)
    assert (gan.lr_g, gan.beta1, gan.blocks, gan.width, gan.batch_size) == (1e-4, 0.9, 16, 64, 16)
    with pytest.raises(ToolkitError, match="cannot both be 0"):
        config_for("srgan", content_weight=0.0).validate()


def test_srresnet_training_beats_bicubic_on_held_out_images():
    fashion_mnist_or_skip()
    t = Trainer(
        config_for("srresnet", **{**TINY, "limit": 2000, "steps": 200, "batch_size": 32, "lr_g": 1e-3}),
        progress=False,
    )
    assert list(t.family.nets) == ["G"]  # a pixel loss needs no discriminator
    test = load_super_resolution("fashion-mnist", split="test", limit=200)
    before = psnr(t.family.translate(test.a).clamp(-1, 1), test.b).mean()
    t.fit()
    after = psnr(t.family.translate(test.a).clamp(-1, 1), test.b).mean()
    bicubic = psnr(bicubic_upscale(test.a, 4), test.b).mean()
    assert after > before + 5 and after > bicubic, (before, after, bicubic)
    images, nrow = t.grid()
    assert nrow == 4 and images.shape == (4 * 8, 1, 28, 28)  # input | bicubic | output | original


def test_srgan_starts_from_srresnet_and_its_content_loss_reaches_g(tmp_path):
    fashion_mnist_or_skip()
    res = Trainer(config_for("srresnet", **TINY, limit=64, steps=4), run_dir=tmp_path / "res", progress=False)
    res.fit()
    gan = Trainer(
        config_for("srgan", **TINY, limit=64, steps=2, init_from=str(tmp_path / "res")),
        run_dir=tmp_path / "gan",
        progress=False,
    )
    for w, v in zip(gan.family.G.state_dict().values(), res.family.G.state_dict().values()):
        assert torch.equal(w, v)
    assert set(gan.family.nets) == {"G", "D"} and gan.family.content_layer == "relu3"
    loss, stats = gan.family.g_step(gan.family.data.sampler(4, 0, "cpu").next())
    assert {"loss_content", "loss_g_gan", "psnr"} <= set(stats) and "loss_pixel" not in stats
    expected = stats["loss_content"] + 1e-3 * stats["loss_g_gan"]
    assert float(loss.detach()) == pytest.approx(float(expected), rel=1e-5)
    gan.family.G.zero_grad()
    loss.backward()
    assert all(p.grad is not None for p in gan.family.G.parameters())
    assert not any(p.requires_grad for p in gan.family.backbone.parameters())
    rows = gan.fit()
    assert {"loss_d", "d_real_acc", "loss_content"} <= set(rows[-1])
    with pytest.raises(ToolkitError, match="differs from this one's"):
        Trainer(config_for("srgan", **{**TINY, "width": 8}, limit=64, init_from=str(tmp_path / "res")))


def test_srgan_resumes_exactly(tmp_path):
    fashion_mnist_or_skip()
    cfg = dict(TINY, limit=64, steps=6, lr_decay=0.5)
    straight = Trainer(config_for("srgan", **cfg), progress=False)
    rows = straight.fit()
    first = Trainer(config_for("srgan", **cfg), run_dir=tmp_path / "r", progress=False)
    first.fit(until=3)
    resumed = Trainer.resume(tmp_path / "r", progress=False)
    assert resumed.family.steps_done == 3
    resumed_rows = resumed.fit()
    for name, net in straight.family.nets.items():
        for (k, v), w in zip(net.state_dict().items(), resumed.family.nets[name].state_dict().values()):
            assert torch.equal(v, w), (name, k)
    assert resumed_rows[-1] == rows[-1] | {"time": resumed_rows[-1]["time"]}


# --- upscale ---------------------------------------------------------------------------------------
def test_tiled_upscaling_equals_the_whole_image_when_tiles_see_enough_context():
    torch.manual_seed(0)
    G = SRResNet(1, 4, 1, 8).eval()
    x = torch.rand(1, 1, 21, 30) * 2 - 1
    with torch.no_grad():
        whole = G(x).clamp(-1, 1)
    assert torch.allclose(upscale_tensor(G, x, 4, tile=8, overlap=12), whole, atol=1e-5)
    seams = upscale_tensor(G, x, 4, tile=8, overlap=0)  # no context: the tile borders differ
    assert not torch.allclose(seams, whole, atol=1e-3)


def test_upscale_and_stylize_commands_on_your_own_files(tmp_path, capsys):
    fashion_mnist_or_skip()
    run = tmp_path / "run"
    Trainer(config_for("srresnet", **TINY, limit=32, steps=2), run_dir=run, progress=False).fit()
    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)).save(mine / "sub" / "photo.jpg")
    Image.fromarray(rng.integers(0, 255, (90, 70), dtype=np.uint8)).save(mine / "big.png")
    assert main(["upscale", "--run-dir", str(run), "--input", str(mine), "--out", str(tmp_path / "out")]) == 0
    assert Image.open(tmp_path / "out" / "sub" / "photo.png").size == (120, 80)
    assert Image.open(tmp_path / "out" / "big.png").size == (280, 360)  # tiled (tile 64), one channel
    args = [
        "upscale",
        "--run-dir",
        str(run),
        "--input",
        str(mine),
        "--out",
        str(tmp_path / "out2"),
        "--shrink",
    ]
    assert main(args) == 0 and Image.open(tmp_path / "out2" / "big.png").size == (68, 88)
    Image.fromarray(np.zeros((3, 3), np.uint8)).save(mine / "tiny.png")
    capsys.readouterr()
    assert (
        main(["upscale", "--run-dir", str(run), "--input", str(mine), "--out", str(tmp_path / "out3")]) == 2
    )
    assert "tiny.png is 3x3 pixels" in capsys.readouterr().err and not (tmp_path / "out3").exists()

    photo, texture = tmp_path / "content.png", tmp_path / "style.png"
    Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(photo)
    stripes = np.tile(np.array([0, 255], np.uint8).repeat(3), 8)[None, :48].repeat(40, 0)
    Image.fromarray(stripes).save(texture)
    out = tmp_path / "styled.png"
    capsys.readouterr()
    assert (
        main(
            ["stylize", "--content", str(photo), "--style", str(texture), "--out", str(out), "--steps", "15"]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "backbone: the toolkit's Fashion-MNIST classifier" in err and Image.open(out).size == (48, 40)
    before, after = (float(v) for v in err.split("style loss ")[1].split(",")[0].split(" -> "))
    assert after < before
    assert (
        main(["stylize", "--content", str(photo), "--style", str(texture), "--out", str(tmp_path / "x.jpg")])
        == 2
    )
    assert (
        main(["stylize", "--content", str(tmp_path / "nope.png"), "--style", str(texture), "--out", str(out)])
        == 2
    )
    assert "nope.png does not exist" in capsys.readouterr().err


def test_upscale_refuses_a_run_of_another_kind(tmp_path):
    from toolkit.upscale import upscale_images

    run = tmp_path / "dcgan"
    Trainer(
        config_for("dcgan", data="digits", steps=1, threads=1, sample_every=0), run_dir=run, progress=False
    ).fit()
    with pytest.raises(ToolkitError, match="upscale needs an srresnet or srgan run"):
        upscale_images(run, tmp_path, tmp_path / "out")
