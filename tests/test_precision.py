"""The GPU path's settings, checked where they also work on a CPU: bf16 autocast (--precision) and
channels-last images and weights (--memory-format). On CUDA both default to on; tests needing a GPU skip."""

import pytest
import torch

from toolkit.errors import ToolkitError
from toolkit.runtime import autocast_dtype, use_channels_last
from toolkit.training import TrainConfig, Trainer

TINY = dict(data="digits", batch_size=16, z_dim=16, width=8, threads=1, log_every=2, sample_every=0)


def test_auto_means_fp32_and_contiguous_on_a_cpu_and_bf16_channels_last_on_cuda():
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
