"""experiments/over_seeds.py: an ablation's seeds combined into mean ± sd and paired verdicts."""

import json

import pytest

from . import load_experiment

over_seeds = load_experiment("over_seeds")

METHODS = ("l1_only", "l1_gan", "l1_gan_lambda10", "no_skips")


def pix2pix_summary(seed: int, fid: dict, steps: int = 3000) -> dict:
    """A summary.json of experiments/pix2pix_ablation.py with the given FIDs (other scores fixed)."""
    runs = {
        m: {"label": m.upper(), "l1": 0.1 + i / 100, "hf": 0.2 + i / 10, "hf_ratio": 0.5, "fid": fid[m]}
        for i, m in enumerate(METHODS)
    }
    return {"settings": {"steps": steps, "seed": seed, "n_test": 5000, "data": "edges2fashion"}, "runs": runs}


def write(folder, summary, command="python experiments/pix2pix_ablation.py --seed N"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps(summary))
    (folder / "commands.txt").write_text(command + "\n")


def three_seeds(tmp_path, gan_fids=(4.0, 3.0, 3.5), no_skip_fids=(4.1, 3.0, 3.4)):
    folder = tmp_path / "pix2pix"
    for seed, (gan, no_skips) in enumerate(zip(gan_fids, no_skip_fids)):
        fid = {"l1_only": 8.0 + seed, "l1_gan": gan, "l1_gan_lambda10": gan - 0.5, "no_skips": no_skips}
        write(
            folder if seed == 0 else folder / f"seed{seed}",
            pix2pix_summary(seed, fid),
            f"seed {seed} command",
        )
    return folder


def claim(combined, text_start):
    (found,) = [c for c in combined["claims"] if c["text"].startswith(text_start)]
    return found


def test_scores_are_listed_per_seed_and_claims_are_paired_differences(tmp_path):
    folder = three_seeds(tmp_path)
    combined = over_seeds.combine("pix2pix", folder)
    assert combined["seeds"] == [0, 1, 2]
    assert combined["sources"] == ["summary.json", "seed1/summary.json", "seed2/summary.json"]
    assert combined["scores"]["l1_only"]["fid"] == [8.0, 9.0, 10.0]
    # "L1 + GAN (lambda 100) has a lower FID than L1 only": L1-only FID minus L1 + GAN's, per seed
    lower_fid = claim(combined, "L1 + GAN (lambda 100) has a lower FID")
    assert lower_fid["differences"] == pytest.approx([4.0, 6.0, 6.5])
    assert lower_fid["verdict"] == "held"
    # "without skips the FID is higher": +0.1, 0, -0.1 -> the seeds disagree
    no_skips = claim(combined, "without skips the FID is higher")
    assert no_skips["differences"] == pytest.approx([0.1, 0.0, -0.1])
    assert no_skips["verdict"] == "within noise"


def test_a_claim_every_seed_contradicts_did_not_hold(tmp_path):
    folder = three_seeds(tmp_path, gan_fids=(4.0, 3.0, 3.5), no_skip_fids=(3.0, 2.1, 2.4))
    assert claim(over_seeds.combine("pix2pix", folder), "without skips the FID")["verdict"] == "did not hold"


def test_main_writes_the_json_and_a_table_with_every_seeds_command(tmp_path):
    folder = three_seeds(tmp_path)
    over_seeds.main(["pix2pix", "--results", str(tmp_path)])
    combined = json.loads((folder / "over_seeds.json").read_text())
    assert combined["experiment"] == "pix2pix" and len(combined["claims"]) == len(
        over_seeds.ABLATIONS["pix2pix"].claims
    )
    text = (folder / "over_seeds.md").read_text()
    assert "| L1_ONLY | " in text and "9.00 ± 1.00" in text  # the L1-only FIDs 8, 9, 10
    assert "| L1 + GAN (lambda 100) has a lower FID than L1 only | +4.00, +6.00, +6.50 |" in text
    for command in ("seed 0 command", "seed 1 command", "seed 2 command", "over_seeds.py pix2pix --results"):
        assert command in text


def test_runs_with_other_settings_are_refused_with_what_differs(tmp_path):
    folder = three_seeds(tmp_path)
    summary = json.loads((folder / "seed2" / "summary.json").read_text())
    summary["settings"]["steps"] = 1000
    write(folder / "seed2", summary)
    with pytest.raises(
        SystemExit, match=r"seed2/summary.json was made with other settings .* \(steps\): rerun"
    ):
        over_seeds.combine("pix2pix", folder)


def test_the_same_seed_twice_is_refused(tmp_path):
    folder = three_seeds(tmp_path)
    write(folder / "seed9", json.loads((folder / "seed1" / "summary.json").read_text()))
    with pytest.raises(SystemExit, match="are both seed 1"):
        over_seeds.combine("pix2pix", folder)


def test_a_seed_missing_a_method_is_refused(tmp_path):
    folder = three_seeds(tmp_path)
    summary = json.loads((folder / "seed1" / "summary.json").read_text())
    del summary["runs"]["no_skips"]
    write(folder / "seed1", summary)
    with pytest.raises(SystemExit, match="rerun it with every method"):
        over_seeds.combine("pix2pix", folder)


def test_no_summary_at_all_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="no summary.json in .*: run the experiment first"):
        over_seeds.combine("pix2pix", tmp_path / "pix2pix")


def test_cyclegan_silhouette_gap_and_srgan_detail_gap_are_derived():
    metrics = {"iou_own_a2b": 0.5, "iou_other_a2b": 0.4, "iou_own_b2a": 0.6, "iou_other_b2a": 0.45}
    cyc = over_seeds.cyclegan_scores({"runs": {"cycle": {"metrics": metrics}}})["cycle"]
    assert cyc["iou_gap_a2b"] == pytest.approx(0.1) and cyc["iou_gap_b2a"] == pytest.approx(0.15)
    run = {"psnr": 20, "ssim": 0.7, "perceptual": 0.1, "detail": 1.2, "fid": 5, "accuracy": 0.8}
    sr = over_seeds.srgan_scores({"sets": {"fashion-mnist": {"runs": {"srgan": run}}}})["srgan"]
    assert sr["detail_gap"] == pytest.approx(
        0.2
    )  # too much detail is as far from the originals as too little


def test_a_summary_without_a_seed_is_seed_0():
    assert over_seeds.seed_of({"settings": {"steps": 2000}}) == 0  # srgan's first run predates --seed


def test_pggan_scores_read_the_two_fid_levels_of_each_seeds_speed_up_table():
    evals = {
        "progressive": [{"fid": 90.0, "step": 300}, {"fid": 50.0, "step": 900}],
        "fixed": [{"fid": 120.0, "step": 100}, {"fid": 60.0, "step": 400}],
    }
    speedups = [
        {"fid": 100.0, "seconds_progressive": 50.0, "seconds_fixed": 200.0},
        {"fid": 60.0, "seconds_progressive": 110.0, "seconds_fixed": 200.0},
    ]
    scores = over_seeds.pggan_scores({"runs": evals, "speedups": speedups})
    assert scores["progressive"] == {
        "final_fid": 50.0,
        "best_fid": 50.0,
        "steps": 900,
        "seconds_to_early": 50.0,
        "seconds_to_end": 110.0,
    }
    assert (scores["fixed"]["seconds_to_early"], scores["fixed"]["seconds_to_end"]) == (200.0, 200.0)
    sooner = over_seeds.ABLATIONS["pggan"].claims[0]
    assert sooner.difference(scores) == 150.0  # the fixed run took 150 s longer to reach FID 100
