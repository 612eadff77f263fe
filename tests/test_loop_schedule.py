"""The loop's schedule and bookkeeping on runs of a few steps: which steps log, sample and checkpoint, the
row for an unfinished interval, the events, stopping, callbacks, config.json's content, steering, and the
guards around a run directory.

Found by mutation testing: the engine's traces pin the numbers a step computes, but which step logs, samples
or checkpoints, and what config.json and events.jsonl say, were only seen through slower CLI tests."""

import json

import pytest
import torch

from toolkit import __version__
from toolkit.data import load_dataset
from toolkit.errors import ToolkitError
from toolkit.runs import Run
from toolkit.training import TrainConfig, Trainer


def _config(**kw):
    base = dict(data="digits", steps=7, batch_size=8, width=4, z_dim=8, log_every=3, sample_every=4)
    base.update(checkpoint_every=5, grid_size=4, seed=3, threads=1)
    base.update(kw)
    return TrainConfig.for_model(base.pop("model", "dcgan"), **base)


class Recorder:
    """A callback that keeps what the loop hands it."""

    def __init__(self, stop_at=None, add=None):
        self.logged, self.sampled, self.ended, self.stop_at, self.add = [], [], 0, stop_at, add

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
    assert saved == [5, 7] and recorder.ended == 1
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
    with pytest.raises(
        ToolkitError, match=r"already holds a run; add --resume to continue it, or choose a new"
    ):
        Trainer(_config(steps=1), run_dir=tmp_path, progress=False)
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


def test_the_trainer_lends_the_familys_attributes_but_not_dunders():
    trainer = Trainer(_config(steps=1), progress=False)
    assert trainer.G is trainer.family.nets["G"] and trainer.fixed_z is trainer.family.fixed_z
    with pytest.raises(AttributeError):
        trainer.__wrapped__
    with pytest.raises(AttributeError):
        trainer.no_such_thing


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
    assert "train: " in err and "4/4" in err and "step" in err.rsplit("|", 1)[-1]
    trainer.fit()
    assert "7/7" in capsys.readouterr().err  # continues from step 4 towards the new total
    Trainer(_config(steps=2), progress=False).fit()
    assert capsys.readouterr().err == ""


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
