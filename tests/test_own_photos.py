"""Own photos with a damaged file: training skips it, says so at start-up and records it in config.json."""

import json

from PIL import Image

from toolkit.__main__ import main


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
