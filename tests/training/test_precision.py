"""The speed settings, checked where they also work on a CPU: bf16 autocast (--precision) and channels-last
images and weights (--memory-format). ``auto`` is bf16 where the hardware has it natively (a CUDA GPU with
bf16, a CPU with AVX-512 BF16 or AMX) and channels-last on CUDA; the choice is recorded in config.json and a
resumed run keeps it. Tests needing a GPU skip; a CPU with or without native bf16 is simulated by patching
``toolkit.runtime.cpu_has_native_bf16``."""

import json

import pytest
import torch

import toolkit.runtime as runtime
from toolkit.errors import ToolkitError
from toolkit.runtime import (
    autocast_dtype,
    resolve_memory_format,
    resolve_precision,
    speed_choice,
    use_channels_last,
)
from toolkit.training import TrainConfig, Trainer

TINY = dict(data="digits", batch_size=16, z_dim=16, width=8, threads=1, log_every=2, sample_every=0)


@pytest.fixture
def cpu_without_bf16(monkeypatch):
    monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: False)


def native_bf16(monkeypatch, native: bool) -> None:
    monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: native)


def test_native_bf16_is_read_from_the_cpus_own_flags(monkeypatch):
    for avx512_bf16, amx, native in ((False, False, False), (True, False, True), (False, True, True)):
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda v=avx512_bf16: v)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda v=amx: v)
        assert runtime.cpu_has_native_bf16() is native


def test_auto_is_bf16_only_on_a_cpu_with_native_bf16_and_contiguous_on_any_cpu(monkeypatch):
    cpu = torch.device("cpu")
    native_bf16(monkeypatch, False)
    assert resolve_precision("auto", cpu) == "fp32" and autocast_dtype("auto", cpu) is None
    assert resolve_precision("bf16", cpu) == "bf16"  # forced: runs, slowly (software bf16)
    native_bf16(monkeypatch, True)
    assert resolve_precision("auto", cpu) == "bf16" and autocast_dtype("auto", cpu) is torch.bfloat16
    assert resolve_precision("fp32", cpu) == "fp32"
    assert resolve_memory_format("auto", cpu) == "contiguous"
    assert resolve_memory_format("channels-last", cpu) == "channels-last"
    assert speed_choice("auto", "auto", cpu) == "bf16, contiguous (--precision auto: native bf16 on this cpu)"
    native_bf16(monkeypatch, False)
    assert (
        speed_choice("auto", "auto", cpu) == "fp32, contiguous (--precision auto: no native bf16 on this cpu)"
    )
    assert speed_choice("bf16", "channels-last", cpu) == "bf16, channels-last"


def test_bad_speed_settings_are_one_line_errors():
    cpu = torch.device("cpu")
    with pytest.raises(ToolkitError, match=r"^--precision must be one of auto, bf16, fp32, got 'fp16'$"):
        resolve_precision("fp16", cpu)
    with pytest.raises(
        ToolkitError, match=r"^--memory-format must be one of auto, channels-last, contiguous, got 'nhwc'$"
    ):
        resolve_memory_format("nhwc", cpu)
    with pytest.raises(ToolkitError, match="--memory-format must be one of auto, channels-last, contiguous"):
        TrainConfig(memory_format="NHWC").validate()


def test_auto_means_fp32_and_contiguous_on_a_cpu_and_bf16_channels_last_on_cuda(cpu_without_bf16):
    cpu = torch.device("cpu")
    assert autocast_dtype("auto", cpu) is None and not use_channels_last("auto", cpu)
    assert autocast_dtype("bf16", cpu) is torch.bfloat16 and use_channels_last("channels-last", cpu)
    assert autocast_dtype("fp32", cpu) is None and not use_channels_last("contiguous", cpu)
    with pytest.raises(ToolkitError, match="--precision bf16 is not supported on this mps device"):
        autocast_dtype("bf16", torch.device("mps"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_auto_on_cuda_is_bf16_and_channels_last():
    gpu = torch.device("cuda")
    assert use_channels_last("auto", gpu)
    assert autocast_dtype("auto", gpu) is (torch.bfloat16 if torch.cuda.is_bf16_supported() else None)


def test_bf16_autocast_runs_the_forward_passes_in_bf16_and_trains():
    t = Trainer(TrainConfig(**TINY, steps=4, precision="bf16"), progress=False)
    seen = []
    t.family.D.register_forward_hook(lambda m, i, out: seen.append(out.dtype))
    rows = t.fit()
    assert torch.bfloat16 in seen  # D ran under autocast
    assert all(torch.isfinite(torch.tensor(r["loss_d"])) for r in rows)
    assert all(p.dtype == torch.float32 for p in t.family.G.parameters())  # weights stay fp32


def test_channels_last_puts_weights_and_batches_in_nhwc_and_computes_the_same():
    cl = Trainer(TrainConfig(**TINY, steps=3, memory_format="channels-last"), progress=False)
    plain = Trainer(TrainConfig(**TINY, steps=3), progress=False)  # the same seed: the same initial nets
    conv = next(p for p in cl.family.D.parameters() if p.dim() == 4)
    assert conv.is_contiguous(memory_format=torch.channels_last)
    batch = cl.batches.next()["image"]
    assert batch.is_contiguous(memory_format=torch.channels_last)
    z = torch.randn(16, 16)
    for t in (cl, plain):
        t.family.G.eval(), t.family.D.eval()  # no dropout masks (drawn per memory layout, not per value)
    with torch.no_grad():
        assert torch.allclose(cl.family.G(z), plain.family.G(z), atol=1e-5)
        assert torch.allclose(cl.family.D(batch), plain.family.D(batch.contiguous()), atol=1e-5)
    for t in (cl, plain):
        t.family.G.train(), t.family.D.train()
    rows = cl.fit()
    assert all(torch.isfinite(torch.tensor(r["loss_d"])) for r in rows)


def test_a_bad_precision_is_a_one_line_error():
    with pytest.raises(ToolkitError, match="--precision must be one of auto, bf16, fp32"):
        TrainConfig(precision="fp8").validate()


RUN = dict(TINY, checkpoint_every=0, grid_size=4)


def _config_json(run_dir) -> dict:
    return json.loads((run_dir / "config.json").read_text())


@pytest.mark.parametrize("native", [False, True])
def test_the_choice_is_recorded_in_config_json_and_a_resume_keeps_it_exactly(tmp_path, monkeypatch, native):
    """A run started where auto means bf16 (or fp32), resumed where it would mean the other: the resumed run
    keeps the recorded choice, and 3 + 3 steps end where 6 straight steps end."""
    native_bf16(monkeypatch, native)
    want = "bf16" if native else "fp32"
    straight = Trainer(TrainConfig(**RUN, steps=6), progress=False)
    assert straight.precision == want
    straight_rows = straight.fit()
    Trainer(TrainConfig(**RUN, steps=3), run_dir=tmp_path, progress=False).fit()
    recorded = _config_json(tmp_path)
    assert recorded["precision"] == "auto" and recorded["precision_used"] == want
    assert recorded["memory_format"] == "auto" and recorded["memory_format_used"] == "contiguous"
    native_bf16(monkeypatch, not native)  # the same run resumed on a CPU where auto decides otherwise
    resumed = Trainer.resume(tmp_path, steps=6, progress=False)
    assert resumed.precision == want and resumed.autocast is (torch.bfloat16 if native else None)
    rows = resumed.fit()
    assert _config_json(tmp_path)["precision_used"] == want
    assert [r["loss_d"] for r in rows] == [r["loss_d"] for r in straight_rows]  # exact, not close
    for a, b in zip(resumed.family.G.parameters(), straight.family.G.parameters()):
        assert torch.equal(a, b)


def test_a_resume_may_still_name_another_precision(tmp_path, cpu_without_bf16):
    Trainer(TrainConfig(**RUN, steps=2), run_dir=tmp_path, progress=False).fit()
    resumed = Trainer.resume(tmp_path, steps=4, progress=False, precision="bf16")
    assert resumed.precision == "bf16"
    resumed.fit()
    assert _config_json(tmp_path)["precision_used"] == "bf16"


def test_a_run_recorded_before_the_choice_was_saved_keeps_fp32_on_a_cpu(tmp_path, monkeypatch):
    native_bf16(monkeypatch, False)
    Trainer(TrainConfig(**RUN, steps=2), run_dir=tmp_path, progress=False).fit()
    old = {k: v for k, v in _config_json(tmp_path).items() if not k.endswith("_used")}
    (tmp_path / "config.json").write_text(json.dumps(old))
    native_bf16(monkeypatch, True)  # auto would now choose bf16; the old run ran fp32
    assert Trainer.resume(tmp_path, steps=4, progress=False).precision == "fp32"
