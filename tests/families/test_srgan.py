"""The SRResNet / SRGAN family value by value: G's loss (pixel, content on the frozen backbone, adversarial,
with the paper's weights) and D's against their formulas, PSNR, the phases with and without D, the schedule of
both optimizers, the grid's four columns, and each one-line error.

Written for mutation testing: the training tests (tests/integration/test_srgan.py) train for seconds per
test, too slow to run once per mutant; these run in well under a second each."""

import pytest
import torch
from conftest import phase_fields

from toolkit.data.super_resolution import bicubic_upscale, load_super_resolution
from toolkit.errors import ToolkitError
from toolkit.families import DataSpec, SRGANConfig, SRGANFamily
from toolkit.losses import bce_d_loss
from toolkit.training import config_for

TINY = dict(blocks=1, width=4, d_width=4, batch_size=4, grid_size=2, steps=10, threads=1)


@pytest.fixture(scope="module")
def data():
    from conftest import fashion_mnist_or_skip

    fashion_mnist_or_skip()
    return load_super_resolution("fashion-mnist", limit=8)


def _family(data, model="srresnet", **kw):
    torch.manual_seed(0)
    cfg = config_for(model, **{**TINY, **kw}).validate()
    return SRGANFamily(cfg, data, torch.device("cpu"))


def _batch(data):
    return {"A": data.a[:4], "B": data.b[:4]}


@pytest.mark.parametrize(
    "model, kw",
    [
        ("srresnet", {}),
        ("srresnet", {"pixel_loss": "l1", "pixel_weight": 2.0}),
        ("srgan", {}),
        ("srgan", {"pixel_weight": 0.5, "content_weight": 3.0, "adversarial_weight": 0.25}),
    ],
)
def test_g_step_adds_the_weighted_pixel_content_and_adversarial_terms(data, model, kw):
    fam = _family(data, model, **kw)
    c, batch = fam.config, _batch(data)
    if fam.D is not None:
        fam.d_step(batch)
    loss, stats = fam.g_step(None if fam.D is not None else batch)  # with D, G trains on D's batch
    fake = fam.G(batch["A"])
    mse = (fake - batch["B"]).pow(2).mean()
    want = 0.0
    assert stats["psnr"].item() == pytest.approx((10 * torch.log10(4.0 / mse)).item(), rel=1e-5)
    if c.pixel_weight > 0:
        pixel = mse if c.pixel_loss == "mse" else (fake - batch["B"]).abs().mean()
        want = want + c.pixel_weight * pixel
        assert stats["loss_pixel"].item() == pytest.approx(pixel.item(), rel=1e-5)
    if c.content_weight > 0:
        layer = fam.content_layer
        assert layer == fam.backbone.deepest
        feats = fam.backbone(fake, [layer])[layer], fam.backbone(batch["B"], [layer])[layer]
        content = (feats[0] - feats[1]).pow(2).mean()
        want = want + c.content_weight * content
        assert stats["loss_content"].item() == pytest.approx(content.item(), rel=1e-5)
    if fam.D is not None:
        adv = torch.nn.functional.softplus(-fam.D(fake)).mean()  # -log D(G(x))
        want = want + c.adversarial_weight * adv
        assert stats["loss_g_gan"].item() == pytest.approx(adv.item(), rel=1e-5)
    assert loss.item() == pytest.approx(want.item(), rel=1e-5) and loss.requires_grad
    assert stats["loss_g"].item() == pytest.approx(want.item(), rel=1e-5)
    assert all(not v.requires_grad for v in stats.values())
    assert ("loss_pixel" in stats) == (c.pixel_weight > 0) and ("loss_content" in stats) == (
        c.content_weight > 0
    )


@pytest.mark.parametrize("term", ["content", "adversarial"])
def test_each_term_of_g_loss_sends_its_own_gradient_to_g(data, term):
    """A value check cannot see a detached term (the loss still requires grad through the other one; one
    popular port's content loss passed no gradient): with only one term weighted, G's weights must get
    exactly that term's gradient, computed by hand."""
    weights = {"content": (1.0, 0.0), "adversarial": (0.0, 1.0)}[term]
    fam = _family(data, "srgan", pixel_weight=0.0, content_weight=1.0, adversarial_weight=1.0)
    fam.config.content_weight, fam.config.adversarial_weight = weights
    batch = _batch(data)
    fam.batch = batch
    params = [p for p in fam.G.parameters() if p.requires_grad]
    loss, _ = fam.g_step(None)
    got = torch.autograd.grad(loss, params, allow_unused=True)
    fake = fam.G(batch["A"])
    layer = fam.content_layer
    with torch.no_grad():
        target = fam.backbone(batch["B"], [layer])[layer]
    content = (fam.backbone(fake, [layer])[layer] - target).pow(2).mean()
    adversarial = torch.nn.functional.softplus(-fam.D(fake)).mean()
    want = torch.autograd.grad(weights[0] * content + weights[1] * adversarial, params, allow_unused=True)
    assert any(g is not None and g.abs().sum() > 0 for g in got), f"the {term} term sends no gradient to G"
    for g, w in zip(got, want):
        assert (g is None) == (w is None)
        if g is not None:
            assert torch.allclose(g, w, rtol=1e-4, atol=1e-7)


def test_psnr_of_a_perfect_output_is_capped_not_infinite(data):
    fam = _family(data)
    fam.G.forward = lambda x: data.b[:4].clone()
    stats = fam.g_step(_batch(data))[1]
    assert stats["psnr"].item() == pytest.approx(10 * torch.log10(torch.tensor(4.0 / 1e-10)).item())


def test_d_step_is_the_bce_of_d_on_originals_and_outputs(data):
    fam = _family(data, "srgan")
    batch = _batch(data)
    loss, stats = fam.d_step(batch)
    with torch.no_grad():
        fake = fam.G(batch["A"])
    d_real, d_fake = fam.D(batch["B"]), fam.D(fake)
    want = bce_d_loss(d_real, d_fake)
    assert loss.item() == pytest.approx(want.item(), rel=1e-5) and loss.requires_grad
    assert stats["loss_d"].item() == pytest.approx(want.item(), rel=1e-5)
    assert stats["d_real_acc"].item() == pytest.approx((d_real > 0).float().mean().item())
    assert stats["d_fake_acc"].item() == pytest.approx((d_fake < 0).float().mean().item())
    assert fam.batch is batch
    fam.D.forward = lambda x: torch.zeros(x.shape[0])
    stats = fam.d_step(batch)[1]
    assert stats["d_real_acc"].item() == 0.0 and stats["d_fake_acc"].item() == 0.0


def test_srresnet_has_no_d_and_srgan_trains_d_first(data):
    fam = _family(data)
    (g,) = fam.phases()
    assert fam.D is None and set(fam.nets) == {"G"} and set(fam.optimizers) == {"G"}
    assert phase_fields(g) == ("G", "G", ("G",), True, fam.g_step, fam.advance)
    fam = _family(data, "srgan")
    d, g = fam.phases()
    assert (d.name, d.optimizer, d.nets, d.needs_batch, d.run) == ("D", "D", ("D",), True, fam.d_step)
    assert (g.needs_batch, g.after) == (False, fam.advance) and set(fam.nets) == {"G", "D"}
    assert fam.optimizers["D"].param_groups[0]["params"] == list(fam.D.parameters())
    assert fam.optimizers["G"].param_groups[0]["params"] == list(fam.G.parameters())
    assert fam.optimizers["G"].param_groups[0]["betas"] == (0.9, 0.999)


def test_both_rates_follow_the_schedule(data):
    fam = _family(data, "srgan", lr_g=4e-4, lr_d=2e-4, lr_decay=0.5)
    for _ in range(7):
        fam.advance()
    assert fam.optimizers["G"].param_groups[0]["lr"] == pytest.approx(4e-4 * 3 / 6)
    assert fam.optimizers["D"].param_groups[0]["lr"] == pytest.approx(2e-4 * 3 / 6)
    assert _family(data, lr_g=3e-4).optimizers["G"].param_groups[0]["lr"] == 3e-4


def test_the_grid_shows_input_bicubic_output_and_original(data):
    fam = _family(data, scale=4)
    images, per_row = fam.grid()
    low, high = fam.fixed_a, fam.fixed_b
    assert per_row == 4 and images.shape == (8, 1, 28, 28)
    blocky = low[0].repeat_interleave(4, -1).repeat_interleave(4, -2)
    assert torch.equal(images[0], blocky) and images[0][0, 0, 3] == images[0][0, 0, 0]  # 4x4 blocks
    assert torch.equal(images[1], bicubic_upscale(low, 4)[0])
    assert torch.equal(images[2], fam.translate(low).clamp(-1, 1)[0]) and torch.equal(images[3], high[0])


def test_the_nets_follow_the_settings():
    spec = DataSpec((3, 8, 8), kind="super-resolution", shape_b=(3, 16, 16))
    nets = SRGANFamily.build_nets(config_for("srgan", scale=2, blocks=2, width=4, d_width=4), spec)
    assert set(nets) == {"G", "D"} and nets["G"](torch.zeros(1, 3, 8, 8)).shape == (1, 3, 16, 16)
    assert nets["D"](torch.zeros(2, 3, 16, 16)).shape == (2,)
    assert sum(type(m).__name__ == "ResidualBlock" for m in nets["G"].modules()) == 2
    assert next(nets["D"].parameters()).shape[0] == 4  # d_width
    assert set(SRGANFamily.build_nets(config_for("srresnet", width=4, blocks=1), spec)) == {"G"}


def test_load_data_and_check_data(data):
    loaded = SRGANFamily.load_data(config_for("srresnet", limit=8, scale=2, seed=0))
    assert loaded.a.shape[-1] * 2 == loaded.b.shape[-1] == 28 and len(loaded) == 8
    other = SRGANFamily.load_data(config_for("srresnet", limit=8, scale=2, seed=1))
    assert not torch.equal(loaded.b, other.b)
    from toolkit.data import load_dataset

    digits = load_dataset("digits", limit=10)
    with pytest.raises(
        ToolkitError, match=r"^--model srgan learns to upscale; give --data .* \(got digits\)$"
    ):
        SRGANFamily.check_data(config_for("srgan"), digits)
    with pytest.raises(ToolkitError, match=r"\(got thing\)$"):
        SRGANFamily.check_data(config_for("srgan"), type("Thing", (), {"name": "thing"})())
    SRGANFamily.check_data(config_for("srgan"), data)


def test_an_unknown_content_layer_fails_when_the_family_is_built(data):
    with pytest.raises(ToolkitError, match=r"^fmnist-cnn has no layer no-such-layer; its layers: relu1, "):
        _family(data, "srgan", content_layer="no-such-layer")
    assert _family(data, "srresnet").backbone is None


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(lr_g=0.0), "--lr-g must be a positive number no larger than 1, got 0.0"),
        (dict(lr_d=2.0), "--lr-d must be a positive number no larger than 1, got 2.0"),
        (dict(beta1=1.0), "Adam betas must be in [0, 1), got 1.0, 0.999"),
        (dict(beta2=1.0), "Adam betas must be in [0, 1), got 0.9, 1.0"),
        (dict(beta2=-0.5), "Adam betas must be in [0, 1), got 0.9, -0.5"),
        (dict(lr_decay=1.5), "--lr-decay is a fraction of the run, in [0, 1]; got 1.5"),
        (dict(lr_decay=-0.5), "--lr-decay is a fraction of the run, in [0, 1]; got -0.5"),
        (dict(blocks=0), "--blocks, --width, --d-width must be >= 1"),
        (dict(width=0), "--blocks, --width, --d-width must be >= 1"),
        (dict(d_width=0), "--blocks, --width, --d-width must be >= 1"),
        (dict(pixel_weight=-1.0), "--pixel-weight must be >= 0"),
        (dict(content_weight=-1.0), "--content-weight must be >= 0"),
        (dict(adversarial_weight=-1.0), "--adversarial-weight must be >= 0"),
        (
            dict(pixel_weight=0.0),
            "--pixel-weight and --content-weight cannot both be 0: G would have no target to match",
        ),
        (dict(eval_every=25), "--eval-every is not a setting of --model srresnet"),  # the gan family's
        (dict(gap_every=25), "--gap-every is not a setting of --model srresnet"),
        (
            dict(adversarial_weight=0.1),
            "--model srresnet trains a pixel or content loss with no discriminator "
            "(--adversarial-weight 0.0), got --adversarial-weight 0.1; leave these to the model's preset "
            "(in Python: build the config with config_for('srresnet', ...))",
        ),
    ],
)
def test_each_bad_setting_is_a_one_line_error(kw, message):
    with pytest.raises(ToolkitError) as refused:
        config_for("srresnet", **kw).validate()
    assert str(refused.value) == message


def test_settings_at_their_limits_and_the_papers_defaults():
    config_for("srresnet", lr_decay=1.0, beta1=0.0, beta2=0.0, blocks=1, width=1, d_width=1).validate()
    SRGANConfig(model="srresnet", scale=8).validate()
    config_for("srresnet", lr_decay=0.0, pixel_weight=0.0, content_weight=0.5).validate()
    with pytest.raises(ToolkitError, match=r"^--model dcgan is not an srgan-family model$"):
        SRGANConfig(model="dcgan").validate()
    with pytest.raises(ToolkitError, match=r"^--scale must be 2, 4 or 8, got 3$"):
        SRGANConfig(model="srresnet", scale=3).validate()
    gan = config_for("srgan")
    assert (gan.pixel_weight, gan.content_weight, gan.adversarial_weight, gan.lr_g, gan.beta1) == (
        0.0, 1.0, 1e-3, 1e-4, 0.9
    )  # fmt: skip


def test_load_data_passes_the_resolution_on():
    from conftest import fashion_mnist_or_skip

    fashion_mnist_or_skip()
    with pytest.raises(ToolkitError, match=r"works on the 28x28 garments; leave --resolution out$"):
        SRGANFamily.load_data(config_for("srresnet", resolution=16, limit=8))


def test_the_width_reaches_g_and_an_output_beyond_the_range_is_clamped_in_the_grid(data):
    nets = SRGANFamily.build_nets(config_for("srresnet", width=6, blocks=1), DataSpec.of(data))
    assert next(nets["G"].parameters()).shape[0] == 6
    fam = _family(data)
    fam.G.forward = lambda x: 3 * torch.sign(torch.randn(x.shape[0], 1, 28, 28))
    images = fam.grid()[0]
    assert images[2].max().item() == 1.0 and images[2].min().item() == -1.0


def test_hand_built_nets_a_weight_file_and_the_device(data, tmp_path):
    cfg = config_for("srgan", **TINY).validate()
    nets = SRGANFamily.build_nets(cfg, DataSpec.of(data))
    fam = SRGANFamily(cfg, data, torch.device("cpu"), nets)
    assert fam.G is nets["G"] and fam.D is nets["D"]
    cfg_meta = config_for("srresnet", **TINY).validate()
    on_meta = SRGANFamily(cfg_meta, data, torch.device("meta"))
    assert next(on_meta.G.parameters()).device.type == on_meta.fixed_a.device.type == "meta"
    with pytest.raises(
        ToolkitError, match=r"^feature-network weights .*missing.pt are missing"
    ):  # the file named
        _family(data, "srgan", backbone_weights=str(tmp_path / "missing.pt"))


def test_srgan_starts_from_an_srresnet_runs_generator(data, tmp_path):
    from toolkit.generate import load_nets
    from toolkit.training import Trainer

    Trainer(
        config_for("srresnet", **{**TINY, "steps": 1}, limit=8), run_dir=tmp_path / "res", progress=False
    ).fit()
    trained = load_nets(tmp_path / "res", "cpu")[0]["G"]
    fam = _family(data, "srgan", init_from=str(tmp_path / "res"))
    assert all(torch.equal(a, b) for a, b in zip(fam.G.state_dict().values(), trained.state_dict().values()))
    with pytest.raises(ToolkitError) as refused:
        _family(data, "srgan", width=8, init_from=str(tmp_path / "res"))
    assert str(refused.value) == (
        f"--init-from {tmp_path / 'res'}: its G (blocks 1, width 4, scale 4) differs from this one's; "
        "give the same --blocks, --width and --scale"
    )
    gan = config_for("dcgan", data="digits", steps=1, width=4, z_dim=4, batch_size=4)
    Trainer(gan, run_dir=tmp_path / "gan", progress=False).fit()
    with pytest.raises(ToolkitError, match=r"^--init-from .*gan is a dcgan run; give an srresnet run$"):
        _family(data, "srgan", init_from=str(tmp_path / "gan"))
