"""experiments/equal_cpu_time.py: its arms' configurations, the paired claims, the table, and the read-back
of an interrupted invocation's runs."""

import json
from argparse import Namespace

import pytest

from . import load_experiment

equal = load_experiment("equal_cpu_time")


def test_every_arm_is_a_valid_configuration_with_its_overrides():
    for arm, (model, overrides) in equal.ARMS.items():
        config = equal.config_of(arm, seed=3, limit=1000)
        assert (config.model, config.seed, config.limit, config.resolution) == (model, 3, 1000, 32)
        assert all(getattr(config, k) == v for k, v in overrides.items())
    assert equal.config_of("stylegan-nomix", 0, None).mixing == 0.0
    assert equal.config_of("stylegan-ada", 0, None).augment == "ada"


def test_claims_are_the_first_arm_against_each_other_paired_by_seed():
    per_arm = {"stylegan": {"fid": [40.0, 42.0, 41.0]}, "dcgan": {"fid": [50.0, 53.0, 51.0]},
               "pggan": {"fid": [39.0, 45.0, 40.0]}}  # fmt: skip
    found = equal.claims(per_arm, ["stylegan", "dcgan", "pggan"])
    assert [c["claim"] for c in found] == [
        "stylegan has a lower final FID than dcgan",
        "stylegan has a lower final FID than pggan",
    ]
    assert found[0]["differences"] == [10.0, 11.0, 10.0] and found[0]["verdict"] == "held"
    assert found[1]["differences"] == [-1.0, 3.0, -1.0] and found[1]["verdict"] == "within noise"


def fake_results(fids: dict) -> dict:
    return {
        arm: {
            str(seed): {
                "evaluations": [{"seconds": 60.0, "step": 10, "fid": fid + 5}],
                "final": {"fid": fid, "precision": 0.5, "recall": 0.1 * seed},
                "steps": 100 + seed,
            }
            for seed, fid in enumerate(values)
        }
        for arm, values in fids.items()
    }


def test_the_table_has_every_arm_and_each_claims_verdict(tmp_path, monkeypatch):
    results = fake_results({"stylegan": [40.0, 42.0, 41.0], "dcgan": [30.0, 31.0, 32.0]})
    monkeypatch.setattr(equal.sys, "argv", ["equal_cpu_time.py", "--arms", "stylegan", "dcgan"])
    args = Namespace(
        arms=["stylegan", "dcgan"], budget=60.0, evals=1, limit=1000, seeds=[0, 1, 2], jobs=2, resumed=0
    )
    equal.summarize(results, args, tmp_path, minutes=3.0)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["final"]["dcgan"]["fid"] == [30.0, 31.0, 32.0]
    assert summary["claims"][0]["verdict"] == "did not hold"  # DCGAN lower on every seed
    table = (tmp_path / "table.md").read_text()
    assert "(1,000 training images)" in table
    assert "| stylegan | stylegan | width 32, mixing 0.9 | 101 ± 1 | 41.00 ± 1.00 | 0.500 ± 0.000 |" in table
    assert "| stylegan has a lower final FID than dcgan | -10.00, -11.00, -9.00 |" in table
    assert (tmp_path / "commands.txt").read_text().strip() == (
        "python experiments/equal_cpu_time.py --arms stylegan dcgan"
    )


def test_an_interrupted_invocations_runs_are_read_back_only_with_the_same_settings(tmp_path):
    args = Namespace(arms=["stylegan", "dcgan"], budget=600.0, evals=4, limit=None)
    settings = equal.settings_of(args)
    so_far = tmp_path / "runs_so_far.json"
    assert equal.finished_runs(so_far, settings, args.arms, [0, 1]) == {"stylegan": {}, "dcgan": {}}
    done = {"stylegan": {"0": {"steps": 5}, "2": {"steps": 6}}, "dcgan": {}, "pggan": {"0": {"steps": 7}}}
    so_far.write_text(json.dumps({"settings": settings, "runs": done}))
    back = equal.finished_runs(so_far, settings, args.arms, [0, 1])  # seed 2 and pggan were not asked for
    assert back == {"stylegan": {"0": {"steps": 5}}, "dcgan": {}}
    with pytest.raises(SystemExit, match="other settings"):
        equal.finished_runs(so_far, {**settings, "budget": 120.0}, args.arms, [0, 1])
    changed = json.loads(json.dumps(settings))
    changed["arms"]["stylegan"][1]["mixing"] = 0.5  # the same name, another arm: refused
    so_far.write_text(json.dumps({"settings": changed, "runs": done}))
    with pytest.raises(SystemExit, match="other settings"):
        equal.finished_runs(so_far, settings, args.arms, [0, 1])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--arms", "stylegan", "--out", "x"], "two or more different arms"),
        (["--arms", "dcgan", "dcgan", "--out", "x"], "two or more different arms"),
        (["--arms", "stylegan", "dcgan", "--out", "x", "--seeds", "0"], "at least two seeds"),
        (["--arms", "stylegan", "dcgan", "--out", "x", "--budget", "0"], "--budget above 0"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(argv, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match=message):
        equal.main(argv)
    assert not (tmp_path / "x").exists()
