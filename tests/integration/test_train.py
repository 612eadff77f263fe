import json

import pytest
import torch

from toolkit.data import load_dataset, mode_quality
from toolkit.errors import ToolkitError
from toolkit.files import atomic_write_text, read_jsonl
from toolkit.runs import Run
from toolkit.training import EMA, TrainConfig, Trainer, TrainingDiverged


def tiny_config(**kw):
    base = dict(
        model="dcgan",
        data="digits",
        steps=20,
        batch_size=16,
        width=8,
        z_dim=16,
        log_every=3,
        sample_every=7,
        checkpoint_every=4,
        grid_size=16,
        seed=5,
        threads=1,
    )
    base.update(kw)
    return TrainConfig.for_model(base.pop("model"), **base)  # with the model's presets (wgan-gp: GP, ...)


def _rows_without_time(run_dir):
    return [{k: v for k, v in r.items() if k != "time"} for r in Run(run_dir).metrics()]


def _state(trainer):
    return {
        **{f"G.{k}": v for k, v in trainer.family.G.state_dict().items()},
        **{f"D.{k}": v for k, v in trainer.family.D.state_dict().items()},
        **{f"E.{k}": v for k, v in trainer.ema["G"].model.state_dict().items()},
    }


def test_resume_continues_exactly(tmp_path):
    """20 steps straight == 10 steps, a new process-like trainer resuming, 10 more: same weights,
    same optimizer state, same metrics rows (time aside). Dropout, batch norm, EMA and the data order
    are all involved; 10 is neither a multiple of log_every (3) nor of checkpoint_every (4)."""
    straight = Trainer(tiny_config(), run_dir=tmp_path / "a", progress=False)
    straight.fit()

    first = Trainer(tiny_config(steps=10), run_dir=tmp_path / "b", progress=False)
    first.fit()
    torch.manual_seed(12345)  # disturb the global RNG: resume must restore it
    second = Trainer.resume(tmp_path / "b", steps=20, progress=False)
    assert second.step == 10
    second.fit()

    a, b = _state(straight), _state(second)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert straight.family.opt_g.state_dict()["state"][0]["exp_avg"].equal(
        second.family.opt_g.state_dict()["state"][0]["exp_avg"]
    )
    assert _rows_without_time(tmp_path / "a") == _rows_without_time(tmp_path / "b")
    assert [r["step"] for r in Run(tmp_path / "a").metrics()] == [3, 6, 9, 12, 15, 18, 20]


def test_run_directory_format(tmp_path):
    t = Trainer(tiny_config(steps=8), run_dir=tmp_path, progress=False)
    t.fit()
    config = json.loads((tmp_path / "config.json").read_text())
    assert TrainConfig.from_dict(config) == t.config  # every setting is there to re-create the run
    assert config["sample_shape"] == [1, 32, 32] and config["kind"] == "images"
    rows = read_jsonl(tmp_path / "metrics.jsonl")
    assert all({"step", "time", "loss_g", "loss_d", "d_real_acc", "d_fake_acc"} <= r.keys() for r in rows)
    assert [p.name for p in sorted((tmp_path / "samples").iterdir())] == [
        "step_000007.png",
        "step_000008.png",
    ]
    state = torch.load(tmp_path / "checkpoints" / "last.pt", weights_only=True)
    assert state["step"] == 8 and state["family"] == "gan"
    assert (
        set(state["nets"]) == {"G", "D"}
        and set(state["ema"]) == {"G"}
        and set(state["optimizers"]) == {"G", "D"}
    )
    assert not list((tmp_path / "checkpoints").glob("*.tmp"))
    assert [e["event"] for e in Run(tmp_path).events()] == ["started", "finished"]


def test_divergence_stops_with_a_clear_error_and_keeps_the_last_good_checkpoint(tmp_path):
    t = Trainer(tiny_config(steps=30, log_every=2, checkpoint_every=4), run_dir=tmp_path, progress=False)
    d_step = t.family.d_step

    def exploding_d_step(
        batch,
    ):  # the family's own D phase, whose loss turns NaN from step 5 (counted from 0)
        loss, stats = d_step(batch)
        if t.step >= 5:
            stats["loss_d"] = stats["loss_d"] * float("nan")
        return loss, stats

    t.family.d_step = exploding_d_step
    with pytest.raises(
        TrainingDiverged, match=r"loss_d became NaN/inf by step 6; the last good checkpoint is kept"
    ):
        t.fit()
    assert torch.load(tmp_path / "checkpoints" / "last.pt", weights_only=True)["step"] == 4
    assert Run(tmp_path).events()[-1]["event"] == "diverged"


def test_training_improves_the_ring():
    """The MLP GAN on the 8-Gaussian ring: the share of high-quality samples rises from ~0 (untrained)
    to a large share, and several modes are found (seeded, ~20 s on one core)."""
    data = load_dataset("ring")
    config = TrainConfig(
        model="mlp",
        data="ring",
        steps=2000,
        batch_size=256,
        lr_g=1e-3,
        lr_d=1e-3,
        z_dim=2,
        width=64,
        ema=0.0,
        log_every=100,
        sample_every=0,
        checkpoint_every=0,
        seed=0,
        threads=1,
    )
    t = Trainer(config, data=data, progress=False)
    before = mode_quality(t.sample(n=2000), "ring")
    t.fit()
    after = mode_quality(t.sample(n=2000), "ring")
    assert before.high_quality < 0.05
    assert after.high_quality > 0.25 and after.modes_covered >= 4, str(after)


def test_ema_update_hand_computed():
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    ema = EMA(model, decay=0.9)
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema.update(model, step=0)  # warm-up: beta = min(0.9, 1/10) = 0.1 -> 0.1*0 + 0.9*1
    assert ema.model.weight.item() == pytest.approx(0.9)
    ema.update(model, step=1000)  # beta = 0.9 -> 0.9*0.9 + 0.1*1
    assert ema.model.weight.item() == pytest.approx(0.91)


def test_bad_config_values_are_rejected():
    for kw, msg in (
        (dict(lr_g=-1.0), "--lr-g must be a positive number"),
        (dict(steps=0), "--steps must be >= 1"),
        (dict(ema=1.5), r"--ema must be in \[0, 1\)"),
        (dict(loss="nope"), "unknown loss"),
    ):
        with pytest.raises(ValueError, match=msg):
            tiny_config(**kw).validate()


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "config.json"
    atomic_write_text(target, "old")

    class Boom(Exception):
        pass

    from toolkit.files import atomic_write

    def failing(f):
        f.write(b"half")
        raise Boom

    with pytest.raises(Boom):
        atomic_write(target, failing)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["config.json"]


def test_reader_skips_a_partial_last_line(tmp_path):
    p = tmp_path / "metrics.jsonl"
    p.write_text('{"step": 1, "time": 0.1}\n{"step": 2, "ti')
    assert read_jsonl(p) == [{"step": 1, "time": 0.1}]
    p.write_text('{"step": 1}\nnot json\n{"step": 3}\n')
    assert [r["step"] for r in read_jsonl(p)] == [1, 3]
    assert read_jsonl(tmp_path / "missing.jsonl") == []


@pytest.mark.parametrize(
    "kw",
    [
        dict(augment="ada", ada_kimg=0.2, ada_interval=2),
        dict(augment="diffusion", ada_kimg=0.2),
        dict(model="cgan"),
        dict(model="acgan"),
        dict(model="wgan-gp", n_critic=2),
    ],
)
def test_resume_continues_exactly_with_augmentation_and_conditioning(tmp_path, kw):
    """ADA's p / Diffusion-GAN's T (and the controller's half-finished interval), class labels and
    extra critic steps all resume exactly."""
    cfg = lambda steps: tiny_config(steps=steps, **kw)  # noqa: E731
    straight = Trainer(cfg(20), run_dir=tmp_path / "a", progress=False)
    straight.fit()
    Trainer(cfg(10), run_dir=tmp_path / "b", progress=False).fit()
    second = Trainer.resume(tmp_path / "b", steps=20, progress=False)
    second.fit()
    a, b = _state(straight), _state(second)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert _rows_without_time(tmp_path / "a") == _rows_without_time(tmp_path / "b")
    if "augment" in kw:
        p, p_resumed = straight.family.augment.p, second.family.augment.p
        assert torch.equal(p, p_resumed) and p.item() > 0


def test_n_critic_draws_a_fresh_real_batch_for_each_critic_step():
    t = Trainer(tiny_config(model="wgan-gp", n_critic=3, steps=2, log_every=1), progress=False)
    t.fit()
    assert t.batches.position == 2 * 3 * 16  # 2 G steps x 3 critic steps x batch 16
    assert {"gp", "grad_norm", "w_estimate"} <= set(t.history[-1])


def test_weight_clipping_holds_after_every_critic_step():
    t = Trainer(tiny_config(model="wgan", steps=3), progress=False)
    t.fit()
    assert max(p.abs().max().item() for p in t.family.D.parameters()) <= 0.01


def test_ada_p_rises_when_d_overfits_a_tiny_dataset():
    """64 images, a strong D: D soon calls every real image real (r_t -> 1 > 0.6), so p must rise."""
    t = Trainer(
        tiny_config(augment="ada", limit=64, steps=60, width=16, ada_kimg=1.0, log_every=10, lr_d=2e-3),
        progress=False,
    )
    rows = t.fit()
    assert rows[-1]["ada_p"] > rows[0]["ada_p"] and t.family.augment.p.item() > 0.05


def test_conditional_sample_grid_has_one_row_per_class(tmp_path):
    t = Trainer(tiny_config(model="cgan", steps=2), run_dir=tmp_path / "c", progress=False)
    assert t.fixed_z.shape[0] == 80 and torch.equal(t.fixed_y[:9], torch.tensor([0] * 8 + [1]))
    assert torch.equal(t.fixed_z[:8], t.fixed_z[8:16])  # the same latents in every row
    t.fit()
    from PIL import Image

    png = Image.open(tmp_path / "c" / "samples" / "step_000002.png")
    assert png.size[0] < png.size[1]  # 8 columns, 10 rows: one row per class


def test_diffusion_needs_dcgan():
    with pytest.raises(ToolkitError, match="built for --model dcgan"):
        Trainer(tiny_config(model="cgan", augment="diffusion"), progress=False)


def test_a_run_on_data_passed_in_resumes_only_with_that_data_and_then_exactly(tmp_path):
    """config.json cannot say what data passed in from Python was (here the digits' first 64 images, while
    config.data says "digits"): resuming from the config alone would silently train on other data."""
    digits = load_dataset("digits", resolution=32)
    subset = digits.subset(torch.arange(64))
    config = tiny_config(steps=8, sample_every=0, checkpoint_every=1)
    straight = Trainer(config, data=subset, progress=False)
    straight.fit()
    first = Trainer(config, data=subset, run_dir=tmp_path / "run", progress=False)
    first.fit(until=3)
    assert Run(tmp_path / "run").config()["data_passed_in"] is True
    with pytest.raises(
        ToolkitError, match=r"passed in from Python.*Trainer.resume\(run_dir, with_data=\.\.\.\)"
    ):
        Trainer.resume(tmp_path / "run", progress=False)
    with pytest.raises(ToolkitError, match="shape \\[1, 16, 16\\].*pass the data the run was started with"):
        Trainer.resume(tmp_path / "run", with_data=load_dataset("digits", resolution=16), progress=False)
    with pytest.raises(ToolkitError, match="not the data .* trained on .*SHA-256 differs"):  # same shape
        Trainer.resume(tmp_path / "run", with_data=digits.subset(torch.arange(64, 128)), progress=False)
    resumed = Trainer.resume(tmp_path / "run", with_data=subset, progress=False)
    resumed.fit()
    for name, net in straight.family.nets.items():
        for (k, v), w in zip(net.state_dict().items(), resumed.family.nets[name].state_dict().values()):
            assert torch.equal(v, w), (name, k)


def test_the_loop_updates_the_ema_every_step_and_samples_grids_and_files_from_it(tmp_path):
    """Replay the EMA by hand from G's weights after every step: the loop's average must match, and the
    grids it shows and the generator load_generator() rebuilds must be that average, not G."""
    import copy

    from toolkit.generate import load_generator

    class Recorder:
        def __init__(self):
            self.weights, self.grids = [], []

        def on_log(self, trainer, row):
            self.weights.append(copy.deepcopy(trainer.family.nets["G"].state_dict()))

        def on_sample(self, trainer, step, images):
            self.grids.append(images)

        def on_end(self, trainer): ...

    recorder = Recorder()
    trainer = Trainer(
        tiny_config(steps=6, log_every=1, sample_every=6, ema=0.5), run_dir=tmp_path / "r", progress=False
    )
    trainer.callbacks.append(recorder)
    by_hand = EMA(copy.deepcopy(trainer.family.nets["G"]), decay=0.5)  # starts from the initial G
    trainer.fit()
    G_now = copy.deepcopy(trainer.family.nets["G"])
    for step, weights in enumerate(recorder.weights):
        G_now.load_state_dict(weights)
        by_hand.update(G_now, step)
    averaged = trainer.ema["G"].model
    for (name, mine), theirs in zip(by_hand.model.state_dict().items(), averaged.state_dict().values()):
        assert torch.allclose(mine, theirs), name
    assert not torch.allclose(
        next(averaged.parameters()), next(trainer.family.nets["G"].parameters())
    )  # a real average, not a copy
    assert torch.equal(recorder.grids[-1], trainer.family.sample(trainer.family.fixed_z, use_ema=True))
    assert not torch.equal(recorder.grids[-1], trainer.family.sample(trainer.family.fixed_z, use_ema=False))
    G_loaded, _ = load_generator(tmp_path / "r")
    for mine, loaded in zip(averaged.state_dict().values(), G_loaded.state_dict().values()):
        assert torch.equal(mine, loaded)


@pytest.mark.parametrize("aux_on_fakes", [True, False])
def test_acgan_d_loss_is_the_adversarial_loss_plus_the_class_loss_on_reals_and_optionally_fakes(aux_on_fakes):
    """Odena et al. eq. 2-3: D adds aux_weight * (CE(c(real), y) + CE(c(fake), y)); with aux_on_fakes off the
    fake term is dropped (results/acgan measures what that does)."""
    import torch.nn.functional as F

    from toolkit.losses import bce_d_loss

    t = Trainer(tiny_config(model="acgan", aux_weight=0.7, aux_on_fakes=aux_on_fakes), progress=False)
    fam = t.family
    fam.G.eval(), fam.D.eval()  # no dropout: the hand computation sees the same D
    real, y = t.data.x[:16], t.data.labels[:16]
    torch.manual_seed(3)
    loss, _ = fam.d_step({"image": real, "label": y})
    torch.manual_seed(3)
    with torch.no_grad():
        fake = fam.generate(fam.noise(16), y)
        (d_real, c_real), (d_fake, c_fake) = fam.D(real), fam.D(fake)
    class_loss = F.cross_entropy(c_real, y) + (F.cross_entropy(c_fake, y) if aux_on_fakes else 0.0)
    assert loss.item() == pytest.approx((bce_d_loss(d_real, d_fake) + 0.7 * class_loss).item(), rel=1e-5)
