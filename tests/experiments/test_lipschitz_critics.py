"""experiments/lipschitz_critics.py: its verdict rule (held / did not hold / within noise) and the table it
writes from the runs' results (arms, steps reached, final scores, verdicts)."""

import json
from argparse import Namespace

import pytest

from . import load_experiment

critics = load_experiment("lipschitz_critics")


@pytest.mark.parametrize(
    "a, b, word",
    [
        ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0], "held"),  # every a below every b: a lower FID
        ([4.0, 5.0, 6.0], [1.0, 2.0, 3.0], "did not hold"),
        ([1.0, 5.0, 3.0], [4.0, 2.0, 6.0], "within noise"),  # the seeds' ranges overlap
        ([1.0, 2.0, 4.0], [4.0, 5.0, 6.0], "within noise"),  # touching is overlapping
    ],
)
def test_verdict_is_lower_fid_on_every_seed(a, b, word):
    assert critics.verdict(a, b) == word


def test_the_table_reads_every_arm_and_seed_and_states_the_verdicts(tmp_path, monkeypatch):
    fids = {"wgan-gp": [80.0, 82.0, 81.0], "sngan": [60.0, 61.0, 62.0], "sngan-ndis1": [61.5, 59.0, 70.0]}
    results = {
        arm: {
            str(seed): {
                "evaluations": [{"seconds": 60.0, "step": 10 * (seed + 1), "fid": fid + 5}],
                "final": {"fid": fid, "precision": 0.5, "recall": 0.1 * seed},
                "steps": 100 + seed,
            }
            for seed, fid in enumerate(values)
        }
        for arm, values in fids.items()
    }
    monkeypatch.setattr(critics.sys, "argv", ["lipschitz_critics.py", "--budget", "60"])
    args = Namespace(budget=60.0, evals=1, width=16, seeds=[0, 1, 2], jobs=2, resumed=0)
    critics.summarize(results, args, tmp_path, minutes=3.0)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["verdicts"] == {
        "sngan below wgan-gp": "held",
        "sngan-ndis1 below wgan-gp": "held",
        "sngan-ndis1 below sngan": "within noise",
    }
    assert summary["final"]["sngan"]["fid"] == [60.0, 61.0, 62.0]
    table = (tmp_path / "table.md").read_text()
    assert "| wgan-gp | 5 | 101 ± 1 | 81.00 ± 1.00 | 0.500 ± 0.000 | 0.100 ± 0.100 |" in table
    assert "| sngan-ndis1 | 1 |" in table and "- sngan below wgan-gp: **held**" in table
    assert (tmp_path / "commands.txt").read_text().strip() == (
        "python experiments/lipschitz_critics.py --budget 60"
    )


def test_an_interrupted_invocations_runs_are_read_back_only_with_the_same_settings(tmp_path):
    settings = {"budget": 300.0, "evals": 3, "width": 16}
    done = {
        "wgan-gp": {"0": {"steps": 540}, "2": {"steps": 530}},
        "sngan": {},
        "sngan-ndis1": {"0": {"steps": 9}},
    }
    so_far = tmp_path / "runs_so_far.json"
    assert critics.finished_runs(so_far, settings, [0, 1]) == {arm: {} for arm in critics.ARMS}  # none yet
    so_far.write_text(json.dumps({"settings": settings, "runs": done}))
    back = critics.finished_runs(so_far, settings, [0, 1])  # seed 2 was not asked for
    assert back == {"wgan-gp": {"0": {"steps": 540}}, "sngan": {}, "sngan-ndis1": {"0": {"steps": 9}}}
    with pytest.raises(SystemExit, match="other settings"):
        critics.finished_runs(so_far, {**settings, "budget": 120.0}, [0, 1])
