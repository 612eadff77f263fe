"""Own photos with a damaged file: training skips it, says so at start-up and records it in config.json."""

import json

from PIL import Image

from toolkit.cli import main


def test_train_skips_an_unreadable_photo_names_it_and_records_it(tmp_path, capsys):
    folder = tmp_path / "photos"
    for c in ("cat", "rocket"):
        (folder / c).mkdir(parents=True)
        for i in range(6):
            Image.new("RGB", (20, 24), (30 * i, 0, 0)).save(folder / c / f"{i}.png")
    (folder / "rocket" / "rocket_corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF truncated")
    args = ["train", "--model", "cgan", "--data", str(folder), "--resolution", "32", "--batch-size", "4"]
    args += ["--steps", "2", "--log-every", "2", "--width", "8", "--z-dim", "8", "--no-progress"]
    assert main([*args, "--device", "cpu", "--run-dir", str(tmp_path / "r")]) == 0
    err = capsys.readouterr().err
    assert "data photos: 12 images of 3x32x32, 2 classes, 1 unreadable images skipped " in err
    assert "(rocket/rocket_corrupt.jpg; named in config.json)" in err
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["data_info"]["unreadable"] == ["rocket/rocket_corrupt.jpg"]


def test_train_eval_every_on_photos_picks_features_as_eval_does(tmp_path, capsys, monkeypatch):
    import toolkit.metrics.evaluate as evaluate
    from toolkit.metrics.evaluate import feature_fit_warning

    monkeypatch.setattr(evaluate, "default_extractor", lambda data: ("pixels8", "pixels8: why"))
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(8):
        Image.new("RGB", (20, 24), (30 * i, 0, 0)).save(folder / f"{i}.png")
    args = ["train", "--model", "dcgan", "--data", str(folder), "--resolution", "32", "--batch-size", "4"]
    args += ["--steps", "2", "--log-every", "2", "--eval-every", "2", "--eval-n", "8", "--width", "8"]
    assert (
        main([*args, "--z-dim", "8", "--no-progress", "--device", "cpu", "--run-dir", str(tmp_path / "r")])
        == 0
    )
    err = capsys.readouterr().err
    assert "--eval-every scores with pixels8: why" in err and "warning" not in err
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["eval_features"] == "pixels8"
    rows = [json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["features"] == "pixels8"
    # typed, it is kept, and the warning names train's own flag
    assert (
        main(
            [
                *args,
                "--z-dim",
                "8",
                "--no-progress",
                "--device",
                "cpu",
                "--eval-features",
                "fmnist-cnn",
                "--run-dir",
                str(tmp_path / "r2"),
            ]
        )
        == 0
    )
    assert "prefer --eval-features inception" in capsys.readouterr().err
    assert "prefer --extractor inception" in feature_fit_warning("fmnist-cnn", "photos")
