"""The loop's schedule and bookkeeping on runs of a few steps: which steps log, sample and checkpoint, the
row for an unfinished interval, the events, stopping, callbacks, config.json's content, steering, and the
guards around a run directory.

Found by mutation testing: the engine's traces pin the numbers a step computes, but which step logs, samples
or checkpoints, and what config.json and events.jsonl say, were only seen through slower CLI tests."""

import dataclasses
import json
import re
import time

import pytest
import torch

from toolkit import __version__
from toolkit.data import TensorData, load_dataset
from toolkit.errors import ToolkitError
from toolkit.runs import Run
from toolkit.training import TrainConfig, Trainer, config_for


def _config(**kw):
    base = dict(data="digits", steps=7, batch_size=8, width=4, z_dim=8, log_every=3, sample_every=4)
    base.update(checkpoint_every=5, grid_size=4, seed=3, threads=1)
    base.update(kw)
    return TrainConfig.for_model(base.pop("model", "dcgan"), **base)


class Recorder:
    """A callback that keeps what the loop hands it."""

    def __init__(self, stop_at=None, add=None):
        self.logged, self.sampled, self.ended, self.stop_at, self.add = [], [], 0, stop_at, add
        self.trainers = set()

    def on_log(self, trainer, row):
        self.logged.append(dict(row))
        if self.add:
            row.update(self.add)
        if self.stop_at is not None and row["step"] >= self.stop_at:
            trainer.stop_requested = True

    def on_sample(self, trainer, step, images):
        self.sampled.append((step, tuple(images.shape)))

    def on_end(self, trainer):
        self.ended += 1
        self.trainers.add(trainer)


def test_which_steps_log_sample_and_checkpoint(tmp_path):
    recorder = Recorder(add={"extra": 1.5})
    trainer = Trainer(_config(), run_dir=tmp_path, callbacks=[recorder], progress=False)
    saved = []
    real_save = trainer.save_checkpoint
    trainer.save_checkpoint = lambda path=None: saved.append(trainer.step) or real_save(path)
    history = trainer.fit()
    # log every 3 steps, then a partial row for step 7; grids every 4, checkpoints every 5, both at the end
    assert [(r["step"], r.get("partial", False)) for r in history] == [(3, False), (6, False), (7, True)]
    assert [s for s, _ in recorder.sampled] == [4, 7] and recorder.sampled[0][1][0] == 4
    assert saved == [5, 7] and recorder.ended == 1 and recorder.trainers == {trainer}
    assert [s for s, _ in Run(tmp_path).sample_grids()] == [4, 7]
    rows = Run(tmp_path).metrics()
    assert rows == history and all(r["extra"] == 1.5 for r in rows)  # a callback's additions are written
    assert all(r["time"] == round(r["time"], 3) for r in rows) and rows[-1]["time"] > 0
    assert {"loss_g", "loss_d", "d_real_acc", "d_fake_acc"} <= set(rows[0])
    events = Run(tmp_path).events()
    assert [(e["event"], e["step"]) for e in events] == [("started", 0), ("finished", 7)]
    assert events[0]["until"] == 7
    assert all(p.requires_grad for net in trainer.family.nets.values() for p in net.parameters())


def test_no_sampling_or_checkpoints_when_turned_off_and_a_run_in_memory(tmp_path):
    recorder = Recorder()
    trainer = Trainer(
        _config(steps=6, sample_every=0, checkpoint_every=0), callbacks=[recorder], progress=False
    )
    assert [r["step"] for r in trainer.fit()] == [3, 6] and recorder.sampled == []
    with pytest.raises(
        ToolkitError, match="^this trainer has no run directory; pass a path to save_checkpoint$"
    ):
        trainer.save_checkpoint()
    assert trainer.save_checkpoint(tmp_path / "mine.pt").is_file()
    on_disk = Trainer(
        _config(steps=6, sample_every=0, checkpoint_every=0), run_dir=tmp_path / "r", progress=False
    )
    on_disk.fit()
    assert (tmp_path / "r" / "checkpoints" / "last.pt").is_file()  # the end of a call always checkpoints
    assert Run(tmp_path / "r").sample_grids() == []


def test_fit_until_then_on_and_a_requested_stop(tmp_path):
    trainer = Trainer(_config(steps=9), run_dir=tmp_path, progress=False)
    trainer.fit(until=4)
    assert trainer.step == 4 and [r["step"] for r in trainer.history] == [3, 4]
    trainer.fit()
    assert trainer.step == 9
    events = [(e["event"], e["step"], e.get("until")) for e in Run(tmp_path).events()]
    assert events == [("started", 0, 4), ("finished", 4, None), ("resumed", 4, 9), ("finished", 9, None)]
    stopper = Recorder(stop_at=3)
    stopped = Trainer(_config(steps=9), run_dir=tmp_path / "s", callbacks=[stopper], progress=False)
    stopped.fit()
    assert stopped.step == 3 and Run(tmp_path / "s").events()[-1]["event"] == "stopped"
    stopper.stop_at = None
    assert stopped.fit() and stopped.step == 9  # a new call starts again: the request was for the last one


def test_config_json_describes_the_run(tmp_path):
    data = load_dataset("digits", limit=32)
    trainer = Trainer(_config(steps=1), data=data, run_dir=tmp_path, progress=False)
    trainer.fit()
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model"] == "dcgan" and config["family"] == "gan" and config["steps"] == 1
    assert (
        config["sample_shape"] == [1, 32, 32] and config["kind"] == "images" and "target_shape" not in config
    )
    assert config["class_names"] == data.class_names and config["data_info"] == json.loads(
        json.dumps(data.info)
    )
    assert config["data_passed_in"] is True and config["world_size"] == 1
    assert config["effective_batch"] == 8 and isinstance(config["effective_batch"], int)
    assert config["toolkit_version"] == __version__
    assert Trainer(_config(steps=1), progress=False).describe()["data_passed_in"] is False


def test_a_run_directory_with_a_run_needs_resume_or_overwrite(tmp_path):
    Trainer(_config(steps=1), run_dir=tmp_path, progress=False).fit()
    with pytest.raises(ToolkitError) as refused:
        Trainer(_config(steps=1), run_dir=tmp_path, progress=False)
    assert str(refused.value) == (
        f"{tmp_path} already holds a run; add --resume to continue it, or choose a new --run-dir "
        "(in Python: Trainer.resume(run_dir), or overwrite=True)"
    )
    Trainer(_config(steps=1), run_dir=tmp_path, overwrite=True, progress=False).fit()
    assert [e["event"] for e in Run(tmp_path).events()] == ["started", "finished"]  # the old run was replaced


def test_steering_checks_applies_and_records(tmp_path):
    trainer = Trainer(_config(steps=2), run_dir=tmp_path, progress=False)
    trainer.fit()
    trainer.writer.lock()
    try:
        with pytest.raises(ToolkitError, match=r"^cannot change z_dim during a run; only lr_g, lr_d"):
            trainer.steer(z_dim=4)
        with pytest.raises(ToolkitError, match="lr"):
            trainer.steer(lr_g=-1.0)
        assert trainer.config.lr_g > 0  # nothing applied from a refused change
        assert trainer.steer(lr_g=0.0125) == {"lr_g": 0.0125}
        assert trainer.config.lr_g == 0.0125
        assert [g["lr"] for g in trainer.family.optimizers["G"].param_groups] == [0.0125]
        assert json.loads((tmp_path / "config.json").read_text())["lr_g"] == 0.0125
        changed = Run(tmp_path).events()[-1]
        assert changed["event"] == "changed" and changed["step"] == 2 and changed["lr_g"] == 0.0125
    finally:
        trainer.writer.close()


def test_the_trainer_lends_only_what_the_family_draws_and_forwards_nothing_else():
    trainer = Trainer(_config(steps=1, seed=4), progress=False)
    family = trainer.family
    assert trainer.fixed_z is family.fixed_z and trainer.fixed_y is family.fixed_y
    assert trainer.generator is family.generator
    assert torch.equal(trainer.sample(family.fixed_z[:3]), family.sample(family.fixed_z[:3]))
    assert torch.equal(trainer.grid()[0], family.grid()[0])
    for name in ("G", "D", "augment", "opt_g", "noise"):  # the family's own: reached by trainer.family only
        assert hasattr(family, name)
        with pytest.raises(AttributeError):
            getattr(trainer, name)


def test_a_step_trains_only_the_phase_nets_and_updates_the_ema():
    trainer = Trainer(_config(steps=1, ema=0.5), progress=False)
    before = {n: [p.detach().clone() for p in net.parameters()] for n, net in trainer.family.nets.items()}
    ema_before = [p.detach().clone() for p in trainer.ema["G"].model.parameters()]
    stats = trainer.train_step(trainer.family.phases())
    assert {"loss_g", "loss_d"} <= set(stats) and all(torch.is_tensor(v) for v in stats.values())
    for name, net in trainer.family.nets.items():
        assert any(not torch.equal(a, b) for a, b in zip(before[name], net.parameters())), name
    assert any(not torch.equal(a, b) for a, b in zip(ema_before, trainer.ema["G"].model.parameters()))


def test_grids_go_to_callbacks_always_and_to_files_only_for_images_with_a_run_directory(tmp_path):
    recorder = Recorder()
    seen = []
    recorder.on_sample = lambda trainer, step, images: seen.append((trainer, step))
    in_memory = Trainer(_config(steps=4, sample_every=2), callbacks=[recorder], progress=False)
    in_memory.fit()
    assert seen == [(in_memory, 2), (in_memory, 4)]
    points = Trainer(
        TrainConfig.for_model("mlp", data="ring", steps=2, sample_every=1, batch_size=8, threads=1),
        run_dir=tmp_path / "ring",
        progress=False,
    )
    points.fit()
    assert Run(tmp_path / "ring").sample_grids() == []  # 2-D points have no image grid


def test_a_conditional_grid_has_one_row_per_class(tmp_path):
    from PIL import Image

    Trainer(
        _config(model="cgan", steps=1, sample_every=1, grid_size=16), run_dir=tmp_path, progress=False
    ).fit()
    width, height = Image.open(tmp_path / "samples" / "step_000001.png").size
    assert height > width  # 8 columns, one row for each of the 10 classes


def test_steering_names_every_setting_it_cannot_change():
    trainer = Trainer(_config(steps=1), progress=False)
    with pytest.raises(
        ToolkitError, match=r"^cannot change width, z_dim during a run; only lr_g, lr_d, ada_target$"
    ):
        trainer.steer(z_dim=4, width=2)


def test_the_progress_bar_counts_steps_towards_the_total(tmp_path, capsys):
    trainer = Trainer(_config(steps=7), run_dir=tmp_path, progress=True)
    trainer.fit(until=4)
    err = capsys.readouterr().err
    assert "train: " in err and "4/4" in err
    assert re.search(r"(step/s|s/step)[],]", err.rsplit("|", 1)[-1]), err  # the rate, in steps
    assert re.search(r"loss_d=[-.\de]+, d_real_acc=[.\d]+, loss_g=[-.\de]+\]", err), err  # the last row's
    assert "d_fake_acc" not in err
    trainer.fit()
    assert "7/7" in capsys.readouterr().err  # continues from step 4 towards the new total
    Trainer(_config(steps=2), progress=False).fit()
    assert capsys.readouterr().err == ""


def test_the_training_time_runs_on_across_calls_to_fit(tmp_path):
    trainer = Trainer(_config(steps=6, log_every=1), progress=False)
    started = time.perf_counter()
    trainer.fit(until=3)
    before = trainer.elapsed
    times = [row["time"] for row in trainer.fit()]  # every row so far, steps 1 to 6
    assert 0 < times[0] <= times[1] <= times[2] == round(before, 3)
    assert (
        times[2] <= times[3] <= times[4] <= times[5] == round(trainer.elapsed, 3)
    )  # counted on, not restarted
    assert trainer.elapsed <= time.perf_counter() - started


def test_the_trainer_takes_threads_device_precision_and_memory_format_from_the_config(monkeypatch):
    import toolkit.training.loop as loop

    asked = []  # torch's thread count is left alone: a forked test process (mutmut) hangs in OpenMP
    monkeypatch.setattr(loop, "set_threads", lambda n: asked.append(n) or 1)
    rgb = TensorData("rgb", torch.rand(16, 3, 32, 32) * 2 - 1)  # 3 channels: NHWC is not NCHW
    cfg = _config(threads=2, precision="bf16", memory_format="channels-last", device="cpu")
    trainer = Trainer(cfg, data=rgb)
    assert asked == [2] and trainer.threads == 1
    assert trainer.device == torch.device("cpu") and trainer.autocast is torch.bfloat16
    assert trainer.channels_last is True and torch.backends.cudnn.benchmark is False  # cuDNN's: CUDA only
    conv = next(m for m in trainer.family.D.modules() if isinstance(m, torch.nn.Conv2d) and m.in_channels > 1)
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert trainer.batches.x.is_contiguous(memory_format=torch.channels_last)
    assert trainer.progress is True  # a progress bar unless asked not to
    plain = Trainer(_config(), progress=False)
    assert plain.autocast is None and plain.channels_last is False and plain.threads == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_device_that_is_not_there_is_refused_before_anything_runs():
    with pytest.raises(ToolkitError, match=r"^--device cuda was asked for but no CUDA GPU is visible"):
        Trainer(_config(device="cuda"))


def test_a_nan_at_a_log_step_stops_the_run_and_records_the_step(tmp_path):
    from toolkit.training import TrainingDiverged

    trainer = Trainer(_config(steps=9, sample_every=0, checkpoint_every=0), run_dir=tmp_path, progress=False)
    trainer.fit(until=4)  # logs at 3, a checkpoint at the end (4), the next log at 6
    trainer.interval.add({"loss_d": torch.tensor(float("inf"))})  # as if a step had diverged
    with pytest.raises(
        TrainingDiverged, match=r"loss_d became NaN/inf by step 6; the last good checkpoint is"
    ):
        trainer.fit()
    assert Run(tmp_path).events()[-1] == {**Run(tmp_path).events()[-1], "event": "diverged", "step": 6}


def test_a_nan_caught_at_a_checkpoint_is_recorded_with_its_step(tmp_path):
    from toolkit.training import TrainingDiverged

    trainer = Trainer(_config(steps=2), run_dir=tmp_path, progress=False)
    trainer.fit()
    trainer.writer.lock()
    trainer.step = 5
    trainer.interval.add({"loss_d": torch.tensor(float("nan"))})
    with pytest.raises(
        TrainingDiverged, match=r"loss_d became NaN/inf by step 5; the last good checkpoint is kept"
    ):
        trainer.save_checkpoint()
    assert Run(tmp_path).events()[-1] == {**Run(tmp_path).events()[-1], "event": "diverged", "step": 5}
    assert torch.load(tmp_path / "checkpoints" / "last.pt", weights_only=True)["step"] == 2  # not overwritten


def test_two_domain_data_brings_its_own_sampler_and_its_target_shape():
    from toolkit.data.translation import PairSampler, load_translation

    colour = load_translation("gray2color", limit=8)
    data = dataclasses.replace(colour, a=colour.b[:, :2])  # 2 -> 3 channels: NHWC differs from NCHW on both
    cfg = config_for(
        "pix2pix", batch_size=4, seed=5, width=4, d_width=4, threads=1, memory_format="channels-last"
    )
    trainer = Trainer(cfg, data=data, progress=False)
    sampler = trainer.batches
    assert isinstance(sampler, PairSampler) and (sampler.batch_size, sampler.seed) == (4, 5)
    assert (sampler.rank, sampler.world_size) == (0, 1)
    assert torch.equal(sampler.next()["A"], data.sampler(4, 5, "cpu").next()["A"])
    for images in (sampler.a, sampler.b):  # both sides' images, like the nets, in NHWC
        assert images.is_contiguous(memory_format=torch.channels_last)
    described = trainer.describe()
    assert described["sample_shape"] == [2, 32, 32] and described["target_shape"] == [3, 32, 32]
    assert described["kind"] == "translation"
    assert "target_shape" not in Trainer(_config(), progress=False).describe()


def test_no_ema_when_its_decay_is_zero():
    trainer = Trainer(_config(ema=0.0), progress=False)
    assert (
        trainer.ema == {} and trainer.family.averaged == {} and trainer.family.generator is trainer.family.G
    )
    kept = Trainer(_config(ema=0.5), progress=False)
    assert set(kept.ema) == {"G"} and kept.family.averaged["G"] is kept.ema["G"].model


def test_hand_built_nets_are_the_ones_trained():
    from toolkit.families import GANFamily
    from toolkit.families.base import DataSpec

    cfg = _config(steps=1)
    nets = GANFamily.build_nets(cfg, DataSpec((1, 32, 32)))  # as a lesson builds them by hand
    trainer = Trainer(cfg, nets=nets, progress=False)
    assert trainer.family.nets["G"] is nets["G"] and trainer.family.nets["D"] is nets["D"]
    before = [p.detach().clone() for p in nets["D"].parameters()]
    trainer.fit()
    assert not all(torch.equal(a, b) for a, b in zip(before, nets["D"].parameters()))  # trained in place
