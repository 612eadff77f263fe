"""Several processes on PyTorch's own distributed engine: torchrun, 2 ranks, gloo on the CPU.

The ranks must stay in sync (equal weights, EMA copies, optimizer moments and ADA's p after K steps, for
every family), split each batch between them, and leave one whole run directory that resumes on any
number of processes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from toolkit.data import BatchSampler, TensorData
from toolkit.runs import Run

ROOT = Path(__file__).resolve().parents[2]
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "TOOLKIT_THREADS": "1", "PYTHONPATH": str(ROOT)}


def torchrun(*args, cwd=ROOT, timeout=400):
    done = subprocess.run(
        [*TORCHRUN, *map(str, args)], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def same(a, b, where=""):
    """Exactly equal nested state (dicts, lists, tensors, numbers); names the first difference."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            same(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{where}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b), f"{where} differs between the ranks"
    else:
        assert a == b, f"{where}: {a} != {b}"


@pytest.fixture(scope="module")
def trained_on_two_ranks(tmp_path_factory):
    from conftest import fashion_mnist_or_skip

    fashion_mnist_or_skip()
    out = tmp_path_factory.mktemp("ranks")
    torchrun("tests/integration/distributed_worker.py", out)
    return out


CASES = ["dcgan", "acgan-ada", "wgan-gp", "pggan", "pix2pix", "cyclegan", "srgan", "stylegan-ada"]


@pytest.mark.parametrize("case", CASES)
def test_every_family_keeps_its_ranks_in_sync(trained_on_two_ranks, case):
    r0 = torch.load(trained_on_two_ranks / f"{case}-rank0.pt", weights_only=False)
    r1 = torch.load(trained_on_two_ranks / f"{case}-rank1.pt", weights_only=False)
    for part in ("nets", "ema", "optimizers"):
        same(r0[part], r1[part], f"{case}:{part}")
    # CycleGAN's image pools hold each rank's own fakes, by design; StyleGAN's last R1 value is the one of the
    # rank's own slice (the logged r1, in the history below, is the ranks' mean; a resume restores rank 0's)
    own = {"pool_A", "pool_B", "r1"}
    same(
        *({k: v for k, v in r["family_state"].items() if k not in own} for r in (r0, r1)),
        f"{case}:family_state",
    )
    drop_time = [{k: v for k, v in row.items() if k != "time"} for row in r0["history"]]
    same(drop_time, [{k: v for k, v in row.items() if k != "time"} for row in r1["history"]], case)
    assert len(r0["history"]) == 2  # 6 steps, a row every 3: the logged means are the ranks' mean
    for name, net in r0["nets"].items():  # they trained: equal untrained ranks would pass the above
        assert any(not torch.equal(v, r0["initial"][name][k]) for k, v in net.items()), name
    if case in ("acgan-ada", "stylegan-ada"):  # r_t summed over the ranks moved p the same way on both
        assert r0["family_state"]["augment"]["p"] > 0
    if case == "stylegan-ada":  # the tracked w_avg (a buffer, broadcast from rank 0) is equal and moved
        assert torch.equal(r0["nets"]["G"]["mapping.w_avg"], r1["nets"]["G"]["mapping.w_avg"])
        assert r0["nets"]["G"]["mapping.w_avg"].abs().sum() > 0 and r0["family_state"]["d_steps"] == 6


def test_ranks_take_disjoint_slices_of_one_global_batch():
    data = TensorData("idx", torch.arange(40.0).view(40, 1), None)
    one = BatchSampler(data, 8, seed=3)  # one process, batch 8 = the 2 ranks' global batch of 2 x 4
    ranks = [BatchSampler(data, 4, seed=3, rank=r, world_size=2) for r in range(2)]
    for _ in range(12):  # across epoch ends (40 samples: 5 global batches per epoch)
        both = torch.cat([r.next()["image"] for r in ranks])
        assert torch.equal(both, one.next()["image"])
    assert ranks[0].state_dict() == ranks[1].state_dict() == one.state_dict()


def test_a_batch_larger_than_the_shards_allow_is_a_clear_error():
    from toolkit.errors import ToolkitError

    data = TensorData("ten", torch.zeros(10, 1), None)
    with pytest.raises(ToolkitError, match=r"batch size 8 x 2 ranks .* --batch-size 5 or less"):
        BatchSampler(data, 8, seed=0, rank=0, world_size=2)


def test_torchrun_train_writes_one_whole_run_that_resumes_on_one_process(tmp_path):
    run = tmp_path / "run"
    flags = [
        "--data",
        "digits",
        "--width",
        "8",
        "--z-dim",
        "16",
        "--batch-size",
        "8",
        "--log-every",
        "4",
        "--sample-every",
        "8",
        "--checkpoint-every",
        "8",
        "--no-progress",
        "--eval-every",
        "8",
        "--eval-n",
        "100",
    ]
    done = torchrun("-m", "toolkit", "train", "--model", "dcgan", "--steps", "8", "--run-dir", run, *flags)
    assert done.stderr.count("finished at step 8") == 1  # rank 0 speaks, rank 1 is silent
    assert "2 processes: an effective batch of 16" in done.stderr
    config = json.loads((run / "config.json").read_text())
    assert config["world_size"] == 2 and config["effective_batch"] == 16
    r = Run(run)
    assert [row["step"] for row in r.metrics()] == [4, 8]  # written once, not once per rank
    assert r.metrics()[-1]["fid"] > 0  # FID from 2 x 50 generated images, gathered from both ranks
    assert r.checkpoint_path() is not None and (run / "samples").exists()
    events = [json.loads(line)["event"] for line in (run / "events.jsonl").read_text().splitlines()]
    assert events.count("started") == 1 and events.count("finished") == 1
    # the checkpoint continues on one process (world size is not part of the run's identity)
    one = subprocess.run(
        [
            sys.executable,
            "-m",
            "toolkit",
            "train",
            "--run-dir",
            str(run),
            "--resume",
            "--steps",
            "12",
            "--no-progress",
        ],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert one.returncode == 0, one.stderr[-2000:]
    assert [row["step"] for row in Run(run).metrics()] == [4, 8, 12]
    assert json.loads((run / "config.json").read_text())["world_size"] == 1


def test_leaving_destroys_the_process_group_once(tmp_path):
    import torch.distributed as dist

    from toolkit.distributed import World, leave

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    leave(World(rank=0, size=2))
    assert not dist.is_initialized()
    leave(World(rank=0, size=2))  # already left: nothing to do
