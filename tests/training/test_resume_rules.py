"""Resume's rules, each on a 4-step run: what may change (learning rates, the total steps) and is recorded,
what may not (one line naming the flags), data passed in from Python, and what a checkpoint holds.

Found by mutation testing: resume was checked for exactness by the engine and training tests, but its
error branches, the "changed" event and the EMA/elapsed bookkeeping of ``restore_checkpoint_state`` were
reached by no fast test."""

import json

import pytest
import torch

from toolkit.data import load_dataset
from toolkit.errors import ToolkitError
from toolkit.runs import Run
from toolkit.runs import checkpoint_contents as checkpoint_state
from toolkit.training import TrainConfig, Trainer
from toolkit.training.checkpoint import restore_checkpoint_state


def _config(**kw):
    base = dict(data="digits", steps=4, batch_size=8, width=4, z_dim=8, log_every=2, sample_every=4)
    base.update(checkpoint_every=2, grid_size=4, seed=3, threads=1, **kw)
    return TrainConfig.for_model("dcgan", **base)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run")
    Trainer(_config(), run_dir=run_dir, progress=False).fit()
    return run_dir


def test_a_checkpoint_holds_everything_by_name(run_dir):
    trainer = Trainer.resume(run_dir, progress=False)
    state = checkpoint_state(trainer)
    assert state["format"] == 2 and state["family"] == "gan" and state["step"] == 4
    assert (
        set(state["nets"]) == {"G", "D"}
        and set(state["ema"]) == {"G"}
        and set(state["optimizers"]) == {"G", "D"}
    )
    assert state["rng_cuda"] == [] and torch.equal(state["rng_cpu"], torch.get_rng_state())
    assert state["elapsed"] == trainer.elapsed > 0 and state["config"]["model"] == "dcgan"
    assert json.loads(json.dumps(state["config"])) == state["config"]  # plain types only
    assert "batches" in state and "family_state" in state


def test_resume_restores_step_elapsed_ema_and_the_metrics_it_keeps(run_dir):
    saved = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)
    trainer = Trainer.resume(run_dir, progress=False)
    assert trainer.step == 4 and isinstance(trainer.step, int)
    assert trainer.elapsed == saved["elapsed"] and isinstance(trainer.elapsed, float)
    for k, v in saved["ema"]["G"].items():
        assert torch.equal(trainer.ema["G"].model.state_dict()[k], v), k
    for k, v in saved["nets"]["D"].items():
        assert torch.equal(trainer.family.nets["D"].state_dict()[k], v), k
    assert [r["step"] for r in trainer.history] == [2, 4] == [r["step"] for r in Run(run_dir).metrics()]


def test_restore_keeps_the_fresh_ema_when_the_checkpoint_has_none(run_dir):
    trainer = Trainer.resume(run_dir, progress=False)
    state = checkpoint_state(trainer)
    before = {k: v.clone() for k, v in trainer.ema["G"].model.state_dict().items()}
    state["ema"] = {}
    state["step"], state["elapsed"] = 3, 1.25
    restore_checkpoint_state(trainer, state)
    assert all(torch.equal(trainer.ema["G"].model.state_dict()[k], v) for k, v in before.items())
    assert (trainer.step, trainer.elapsed) == (3, 1.25)
    del state["nets"]["D"]
    with pytest.raises(
        ToolkitError, match=r"^the checkpoint does not fit this model/config \('D'\); resume with"
    ):
        restore_checkpoint_state(trainer, state)


def test_resume_may_change_learning_rates_and_steps_and_records_them(tmp_path):
    Trainer(_config(), run_dir=tmp_path, progress=False).fit()
    saved_lr = Run(tmp_path).config()["lr_g"]
    trainer = Trainer.resume(tmp_path, steps=6, lr_g=saved_lr / 2, progress=False)
    assert trainer.config.steps == 6 and trainer.config.lr_g == saved_lr / 2
    assert [g["lr"] for g in trainer.family.optimizers["G"].param_groups] == [saved_lr / 2]
    assert [g["lr"] for g in trainer.family.optimizers["D"].param_groups] == [Run(tmp_path).config()["lr_d"]]
    changed = [e for e in Run(tmp_path).events() if e["event"] == "changed"]
    assert len(changed) == 1 and changed[0]["on"] == "resume" and changed[0]["step"] == 4
    assert changed[0]["lr_g"] == saved_lr / 2 and changed[0]["steps"] == 6
    Trainer.resume(tmp_path, steps=4, lr_g=saved_lr, progress=False)  # the saved values: no change, no event
    assert len([e for e in Run(tmp_path).events() if e["event"] == "changed"]) == 1


def test_resume_refuses_what_cannot_change_naming_each_flag(run_dir):
    with pytest.raises(ToolkitError) as refused:
        Trainer.resume(run_dir, z_dim=16, batch_size=4, progress=False)
    assert str(refused.value) == (
        "--batch-size, --z-dim cannot change on --resume (the run keeps its model, data and networks); "
        "start a new --run-dir to change them"
    )
    Trainer.resume(run_dir, batch_size=8, progress=False)  # the saved value is not a change
    with pytest.raises(ToolkitError, match=r"^--steps 3 is below the run's current step 4; give a larger"):
        Trainer.resume(run_dir, steps=3, progress=False)
    assert Trainer.resume(run_dir, steps=4, progress=False).step == 4  # equal is fine


def test_resume_without_a_checkpoint_or_with_other_data_is_one_line(tmp_path):
    with pytest.raises(
        ToolkitError, match=r"^nothing to resume in .*: no checkpoints/last.pt; start it without"
    ):
        Trainer.resume(tmp_path / "empty", progress=False)
    data = load_dataset("digits", limit=64)
    Trainer(_config(), data=data, run_dir=tmp_path / "passed", progress=False).fit()
    with pytest.raises(
        ToolkitError, match=r"passed in from Python .* in Python with the same data: Trainer\.resume\("
    ):
        Trainer.resume(tmp_path / "passed", progress=False)
    other = load_dataset("digits", limit=64, resolution=16)
    with pytest.raises(
        ToolkitError, match=r"has images of shape \[1, 16, 16\], but .* was trained on \[1, 32, 32\]"
    ):
        Trainer.resume(tmp_path / "passed", with_data=other, progress=False)

    class Callback:
        def on_log(self, trainer, row): ...

    callback = Callback()
    resumed = Trainer.resume(tmp_path / "passed", with_data=data, callbacks=[callback], progress=False)
    assert resumed.step == 4 and resumed.data is data and callback in resumed.callbacks
    assert resumed.progress is False
    assert Trainer.resume(tmp_path / "passed", with_data=data).progress is True  # the default: a progress bar


def test_other_ranks_draw_their_own_noise_after_a_restore(run_dir):
    """Rank 0's random streams are saved; rank r > 0 reseeds with seed + 1,000,003 r + step."""

    class Rank2:
        rank, is_main, distributed, size = 2, False, True, 3

    trainer = Trainer.resume(run_dir, progress=False)
    state = checkpoint_state(trainer)
    trainer.world = Rank2()
    restore_checkpoint_state(trainer, state)
    drawn = torch.rand(4)
    torch.manual_seed(3 + 1_000_003 * 2 + 4)
    assert torch.equal(drawn, torch.rand(4))
