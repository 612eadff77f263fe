"""The pix2pix family and what it shares with CycleGAN (``toolkit/families/translation.py``), value by value:
the learning-rate schedule, the sample grid's columns, D's and G's losses against the paper's formulas, the
phases with and without D, translation in eval mode, the family's state and each one-line error.

Written for mutation testing: the training tests (tests/integration/test_translation_training.py) train for
seconds per test, too slow to run once per mutant; these run in milliseconds."""

import dataclasses

import pytest
import torch
import torch.nn.functional as F
from conftest import phase_fields

from toolkit.data.translation import load_translation
from toolkit.errors import ToolkitError
from toolkit.families import DataSpec, Pix2PixFamily
from toolkit.families.translation import linear_decay_factor, side_by_side
from toolkit.training import config_for

DATA = load_translation("gray2color", limit=8)  # A: grey, B: colour, 32 x 32


def _family(**kw):
    base = dict(batch_size=4, width=4, d_width=4, grid_size=3, steps=10, threads=1)
    base.update(kw)
    torch.manual_seed(0)
    return Pix2PixFamily(config_for("pix2pix", **base).validate(), DATA, torch.device("cpu"))


def _batch():
    return {"A": DATA.a[:4], "B": DATA.b[:4]}


def _bce_logits(x, target):
    return F.binary_cross_entropy_with_logits(x, torch.full_like(x, target))


# --- the schedule and the grid ------------------------------------------------------------------------
def test_the_rate_is_constant_then_falls_linearly_towards_zero():
    assert [round(linear_decay_factor(s, 200, 100), 4) for s in (0, 99, 100, 150, 199)] == [
        1.0,
        1.0,
        0.9901,
        0.495,
        0.0099,
    ]  # the docstring's example: 100 + 100 epochs
    assert linear_decay_factor(5, 10, 0) == 1.0  # no decay


def test_the_family_sets_each_steps_rate_and_counts_steps():
    fam = _family(lr_g=4e-4, lr_d=2e-4, lr_decay=0.5)  # 10 steps: constant for 5, then falling
    lrs = []
    for _ in range(10):
        lrs.append((fam.optimizers["G"].param_groups[0]["lr"], fam.optimizers["D"].param_groups[0]["lr"]))
        fam.advance()
    assert fam.steps_done == 10 and fam.state_dict() == {"steps_done": 10}
    assert lrs[:5] == [(4e-4, 2e-4)] * 5
    assert [round(g / 4e-4, 4) for g, _ in lrs[5:]] == [round(1 - k / 6, 4) for k in range(1, 6)]
    assert all(d == pytest.approx(g / 2) for g, d in lrs)
    other = _family(lr_g=4e-4, lr_d=2e-4, lr_decay=0.5)
    other.load_state_dict({"steps_done": 7})
    assert other.steps_done == 7 and other.optimizers["G"].param_groups[0]["lr"] == pytest.approx(
        4e-4 * 3 / 6
    )


def test_steering_reapplies_the_schedule_and_the_betas():
    fam = _family(lr_decay=0.0)
    fam.config.lr_g, fam.config.beta1, fam.config.beta2 = 1e-3, 0.1, 0.9
    fam.apply_settings({"lr_g": 1e-3})
    assert fam.optimizers["G"].param_groups[0]["lr"] == 1e-3
    assert fam.optimizers["G"].param_groups[0]["betas"] == (0.5, 0.999)  # betas only when asked
    fam.apply_settings({"beta2": 0.9})
    assert (
        fam.optimizers["D"].param_groups[0]["betas"]
        == (0.1, 0.9)
        == fam.optimizers["G"].param_groups[0]["betas"]
    )


def test_side_by_side_puts_one_input_per_row_and_greys_beside_colour():
    grey, colour = torch.zeros(2, 1, 4, 4), torch.ones(2, 3, 4, 4)
    grey[1] = 0.5
    images, per_row = side_by_side(grey, colour)
    assert per_row == 2 and images.shape == (4, 3, 4, 4)
    assert (
        images[0].eq(0).all() and images[1].eq(1).all() and images[2].eq(0.5).all() and images[3].eq(1).all()
    )


def test_the_grid_shows_input_output_and_target_of_the_held_out_images():
    fam = _family()
    images, per_row = fam.grid()
    a, b = DATA.fixed(3)
    assert per_row == 3 and images.shape == (9, 3, 32, 32)
    assert torch.equal(images[0], a[0].expand(3, -1, -1)) and torch.equal(images[2], b[0])
    assert torch.equal(images[1], fam.translate(a)[0])  # G's colour output
    assert torch.equal(fam.fixed_a, a) and torch.equal(fam.fixed_b, b)


# --- the steps ------------------------------------------------------------------------------------------
def test_d_step_is_half_the_bce_of_d_on_input_beside_target_and_beside_output():
    fam = _family()
    batch = _batch()
    loss, stats = fam.d_step(batch)
    with torch.no_grad():
        fake = fam.G(batch["A"])
    d_real = fam.D(torch.cat([batch["A"], batch["B"]], 1))
    d_fake = fam.D(torch.cat([batch["A"], fake], 1))
    want = 0.5 * (_bce_logits(d_real, 1.0) + _bce_logits(d_fake, 0.0))
    assert loss.item() == pytest.approx(want.item(), rel=1e-5) and loss.requires_grad
    assert (
        stats["loss_d"].item() == pytest.approx(want.item(), rel=1e-5) and not stats["loss_d"].requires_grad
    )
    assert stats["d_real_acc"].item() == pytest.approx((d_real > 0).float().mean().item())
    assert stats["d_fake_acc"].item() == pytest.approx((d_fake < 0).float().mean().item())
    assert fam.batch is batch  # G trains on the same batch


def test_g_step_is_lambda_l1_plus_the_weighted_non_saturating_loss():
    fam = _family(l1_weight=7.0, gan_weight=0.5)
    batch = _batch()
    fam.d_step(batch)
    loss, stats = fam.g_step(None)  # the batch D saw
    fake = fam.G(batch["A"])
    l1 = (fake - batch["B"]).abs().mean()
    gan = _bce_logits(fam.D(torch.cat([batch["A"], fake], 1)), 1.0)
    assert loss.item() == pytest.approx((7.0 * l1 + 0.5 * gan).item(), rel=1e-5) and loss.requires_grad
    assert stats["loss_l1"].item() == pytest.approx(l1.item(), rel=1e-5)
    assert stats["loss_g_gan"].item() == pytest.approx(gan.item(), rel=1e-5)
    assert stats["loss_g"].item() == pytest.approx(loss.item()) and not stats["loss_g"].requires_grad


def test_without_the_adversarial_term_there_is_only_l1_and_no_d_phase():
    fam = _family(gan_weight=0.0, l1_weight=2.0)
    (g,) = fam.phases()
    assert (g.name, g.optimizer, g.nets, g.needs_batch, g.after) == ("G", "G", ("G",), True, fam.advance)
    loss, stats = g.run(_batch())
    l1 = (fam.G(_batch()["A"]) - _batch()["B"]).abs().mean()
    assert loss.item() == pytest.approx(2.0 * l1.item(), rel=1e-5) and set(stats) == {"loss_l1", "loss_g"}
    fam = _family()
    d, g = fam.phases()
    assert phase_fields(d) == ("D", "D", ("D",), True, fam.d_step, None)
    assert phase_fields(g) == ("G", "G", ("G",), False, fam.g_step, fam.advance)


# --- nets, translation, data ----------------------------------------------------------------------------
def test_the_nets_are_a_unet_to_1x1_and_a_conditional_patch_d():
    nets = Pix2PixFamily.build_nets(
        config_for("pix2pix", width=4, d_width=4), DataSpec((1, 32, 32), shape_b=(3, 32, 32))
    )
    out = nets["G"](torch.zeros(2, 1, 32, 32))
    assert out.shape == (2, 3, 32, 32)
    assert nets["D"](torch.zeros(2, 4, 32, 32)).dim() == 4  # D sees input and output stacked: 1 + 3 channels
    with pytest.raises(
        ToolkitError, match=r"must be square with a side of 32, 64, 128, 256, ... pixels; these are 48x48"
    ):
        Pix2PixFamily.build_nets(config_for("pix2pix"), DataSpec((1, 48, 48), shape_b=(3, 48, 48)))
    with pytest.raises(ToolkitError, match=r"these are 16x16"):
        Pix2PixFamily.build_nets(config_for("pix2pix"), DataSpec((1, 16, 16), shape_b=(3, 16, 16)))


def test_patch_layers_follow_the_setting_or_the_image_size():
    spec = DataSpec((1, 32, 32), shape_b=(3, 32, 32))
    assert Pix2PixFamily.patch_layers(config_for("pix2pix", d_layers=3), spec) == 3
    assert Pix2PixFamily.patch_layers(config_for("pix2pix"), spec) == 1  # 32 px: the 16 px field
    assert (
        Pix2PixFamily.patch_layers(config_for("pix2pix"), DataSpec((1, 256, 256), shape_b=(3, 256, 256))) == 3
    )


def test_translation_runs_in_eval_mode_and_restores_training():
    fam = _family()
    x = DATA.a[:2]
    out = fam.translate(x)
    fam.G.eval()
    assert torch.equal(out, fam.G(x)) and out.device.type == "cpu"
    assert fam.G.training is False
    fam.G.train()
    fam.translate(x)
    assert fam.G.training
    assert Pix2PixFamily.translator(fam.nets, "a2b") is fam.G and fam.G.training is False
    with pytest.raises(ToolkitError, match=r"^--direction b2a is not available for pix2pix; choose a2b$"):
        Pix2PixFamily.translator(fam.nets, "b2a")


def test_the_data_must_be_two_domains_and_paired():
    from toolkit.data import load_dataset

    cfg = config_for("pix2pix")
    with pytest.raises(
        ToolkitError, match=r"^--model pix2pix translates between two image domains; give --data "
    ):
        Pix2PixFamily.check_data(cfg, load_dataset("digits", limit=10))
    unpaired = dataclasses.replace(DATA, paired=False)
    with pytest.raises(
        ToolkitError, match=r"^gray2color is unpaired; pix2pix needs pairs: use --model cyclegan$"
    ):
        Pix2PixFamily.check_data(cfg, unpaired)
    Pix2PixFamily.check_data(cfg, DATA)
    assert Pix2PixFamily.needs(cfg) == ("A", "B")
    data = Pix2PixFamily.load_data(config_for("pix2pix", data="gray2color", limit=6, seed=2))
    assert len(data) == 6 and data.paired


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(lr_g=0.0), "--lr-g must be a positive number no larger than 1, got 0.0"),
        (dict(lr_d=1.5), "--lr-d must be a positive number no larger than 1, got 1.5"),
        (dict(beta1=1.0), "Adam betas must be in [0, 1), got 1.0, 0.999"),
        (dict(beta2=1.0), "Adam betas must be in [0, 1), got 0.5, 1.0"),
        (dict(beta1=-0.1), "Adam betas must be in [0, 1), got -0.1, 0.999"),
        (dict(lr_decay=1.5), "--lr-decay is a fraction of the run, in [0, 1]; got 1.5"),
        (dict(lr_decay=-0.1), "--lr-decay is a fraction of the run, in [0, 1]; got -0.1"),
        (dict(d_layers=5), "--d-layers must be 0 (auto) or 1-4, got 5"),
        (dict(d_layers=-1), "--d-layers must be 0 (auto) or 1-4, got -1"),
        (dict(eval_every=25), "--eval-every is not a setting of --model pix2pix"),  # the gan family's
        (dict(gap_every=25), "--gap-every is not a setting of --model pix2pix"),
        (dict(l1_weight=-1.0), "--l1-weight and --gan-weight must be >= 0"),
        (dict(gan_weight=-1.0), "--l1-weight and --gan-weight must be >= 0"),
        (dict(l1_weight=0.0, gan_weight=0.0), "--l1-weight and --gan-weight cannot both be 0"),
        (dict(width=0), "--width and --d-width must be >= 1"),
        (dict(d_width=0), "--width and --d-width must be >= 1"),
    ],
)
def test_each_bad_setting_is_a_one_line_error(kw, message):
    with pytest.raises(ToolkitError) as refused:
        config_for("pix2pix", **kw).validate()
    assert str(refused.value).startswith(message)


@pytest.mark.parametrize(
    "kw",
    [
        dict(lr_decay=0.0),
        dict(lr_decay=1.0),
        dict(d_layers=4),
        dict(beta1=0.0, beta2=0.0),
        dict(l1_weight=0.0),
        dict(l1_weight=0.5, gan_weight=0.0),
        dict(width=1, d_width=1),
    ],
)
def test_settings_at_their_limits_are_accepted(kw):
    config_for("pix2pix", **kw).validate()


def test_the_config_is_the_papers():
    cfg = config_for("pix2pix")
    assert (cfg.lr_g, cfg.lr_d, cfg.beta1, cfg.beta2, cfg.lr_decay, cfg.l1_weight, cfg.gan_weight) == (
        2e-4,
        2e-4,
        0.5,
        0.999,
        0.5,
        100.0,
        1.0,
    )
    assert (cfg.norm, cfg.skips, cfg.dropout, cfg.ema, cfg.d_layers) == ("batch", True, True, 0.0, 0)


def test_the_settings_reach_the_nets():
    spec = DataSpec((1, 64, 64), shape_b=(3, 64, 64))

    def kinds(net):
        return {type(m).__name__ for m in net.modules()}

    nets = Pix2PixFamily.build_nets(
        config_for("pix2pix", width=4, d_width=4, norm="instance", skips=False), spec
    )
    assert (
        nets["G"].skips is False
        and "InstanceNorm2d" in kinds(nets["G"])
        and "InstanceNorm2d" in kinds(nets["D"])
    )
    assert "Dropout" in kinds(Pix2PixFamily.build_nets(config_for("pix2pix", width=4), spec)["G"])
    plain = Pix2PixFamily.build_nets(config_for("pix2pix", width=4, dropout=False), spec)["G"]
    assert "Dropout" not in kinds(plain) and plain.skips is True and "BatchNorm2d" in kinds(plain)


def test_hand_built_nets_and_the_device_are_the_familys():
    nets = Pix2PixFamily.build_nets(config_for("pix2pix", width=4, d_width=4), DataSpec.of(DATA))
    cfg = config_for("pix2pix", width=4, d_width=4, grid_size=2).validate()
    fam = Pix2PixFamily(cfg, DATA, torch.device("cpu"), nets)
    assert fam.G is nets["G"] and fam.D is nets["D"]
    on_meta = Pix2PixFamily(cfg, DATA, torch.device("meta"))
    assert (
        on_meta.fixed_a.device.type == on_meta.fixed_b.device.type == next(on_meta.G.parameters()).device.type
    )
    assert on_meta.fixed_a.device.type == "meta"


def test_a_logit_of_exactly_zero_is_neither_real_nor_fake():
    fam = _family()
    fam.D.forward = lambda x: torch.zeros(x.shape[0], 1, 2, 2)
    stats = fam.d_step(_batch())[1]
    assert stats["d_real_acc"].item() == 0.0 and stats["d_fake_acc"].item() == 0.0


def test_more_one_line_errors():
    from toolkit.families import CycleGANFamily, Pix2PixConfig

    with pytest.raises(ToolkitError, match=r"^--model dcgan is not a pix2pix-family model$"):
        Pix2PixConfig(model="dcgan").validate()
    with pytest.raises(ToolkitError) as refused:
        config_for("pix2pix", eval_every=25).validate()
    assert str(refused.value) == "--eval-every is not a setting of --model pix2pix"
    with pytest.raises(
        ToolkitError, match=r"^--direction a2a is not available for cyclegan; choose a2b, b2a$"
    ):
        CycleGANFamily.translator({}, "a2a")
    with pytest.raises(
        ToolkitError, match=r"translates between two image domains; give --data .* \(got thing, a"
    ):
        Pix2PixFamily.check_data(config_for("pix2pix"), type("Thing", (), {"name": "thing"})())


def test_load_data_uses_the_configs_resolution_limit_seed_and_pairing():
    data = Pix2PixFamily.load_data(config_for("pix2pix", data="gray2color", limit=6, seed=2))
    want = load_translation("gray2color", limit=6, seed=2, paired=True)
    assert torch.equal(data.a, want.a) and torch.equal(data.b, want.b) and data.paired is True
    with pytest.raises(ToolkitError, match=r"^gray2color is 32x32; leave --resolution out \(or give 32\)$"):
        Pix2PixFamily.load_data(config_for("pix2pix", data="gray2color", resolution=64, limit=6))


def test_steering_beta1_alone_resets_the_betas():
    fam = _family()
    fam.config.beta1 = 0.2
    fam.apply_settings({"beta1": 0.2})
    assert fam.optimizers["G"].param_groups[0]["betas"] == (0.2, 0.999)


def test_pix2pix_refuses_an_unpaired_set_that_cyclegan_takes():
    from conftest import fashion_mnist_or_skip

    from toolkit.families import CycleGANFamily

    fashion_mnist_or_skip()
    with pytest.raises(ToolkitError, match=r"sneaker2boot"):
        Pix2PixFamily.load_data(config_for("pix2pix", data="sneaker2boot", limit=6))
    assert CycleGANFamily.load_data(config_for("cyclegan", data="sneaker2boot", limit=6)).paired is False
