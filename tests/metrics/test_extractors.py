"""Feature extractors: the shipped Fashion-MNIST network, InceptionV3 from a local file, the cache."""

import json

import numpy as np
import pytest
import torch
from conftest import TINY, fashion_mnist_or_skip

from toolkit.errors import ToolkitError
from toolkit.metrics.extractors import INCEPTION_FILE, build_fid_inception, load_extractor


def test_shipped_feature_net_is_at_least_90_percent_accurate():
    fashion_mnist_or_skip()
    from toolkit.data import load_dataset
    from toolkit.metrics.fmnist_cnn import load_fmnist_cnn
    from toolkit.metrics.train_feature_net import accuracy

    test = load_dataset("fashion-mnist", split="test")
    net = load_fmnist_cnn()
    assert accuracy(net, test.x, test.labels) >= 0.90
    # features are calibrated to E|f|^2 / D = 1 on training images (KID's kernel assumes that scale)
    f = net.features(load_dataset("fashion-mnist").x[:5000])
    assert abs(f.pow(2).sum(1).mean().item() / f.shape[1] - 1.0) < 0.05


def test_cache_key_changes_with_the_weights(tmp_path, monkeypatch):
    """Features cached for one set of weights are never served for another."""
    monkeypatch.setenv("TOOLKIT_CACHE", str(tmp_path))
    from toolkit.metrics.evaluate import real_features
    from toolkit.metrics.fmnist_cnn import FashionCNN

    ext = load_extractor("fmnist-cnn")
    first = real_features("digits", ext, n=50)
    other = tmp_path / "other.pt"
    torch.manual_seed(1)
    torch.save(FashionCNN().state_dict(), other)
    ext2 = load_extractor("fmnist-cnn", path=other)
    assert ext2.fingerprint != ext.fingerprint
    assert not np.allclose(real_features("digits", ext2, n=50), first)
    assert len(list((tmp_path / "features").glob("*.npy"))) == 2
    assert np.array_equal(real_features("digits", ext, n=50), first)  # served from the cache


def test_fmnist_features_shape_and_input_forms():
    ext = load_extractor("fmnist-cnn")
    x = torch.rand(6, 1, 32, 32) * 2 - 1
    f = ext(x)
    assert ext.name == "fmnist-cnn" and f.shape == (6, 128)
    assert ext(x[:, :, 2:30, 2:30]).shape == (6, 128)  # 28x28 is padded
    assert ext(x.repeat(1, 3, 2, 2)).shape == (6, 128)  # RGB 64x64 is made grey and resized


@pytest.fixture(scope="module")
def random_inception_file(tmp_path_factory):
    """A randomly initialised FID InceptionV3 saved in the real weight file's format."""
    import torchvision.models.inception as tvi
    from pytorch_fid import inception as pf

    with pytest.MonkeyPatch.context() as m:
        m.setattr(pf, "load_state_dict_from_url", lambda *a, **k: None)  # no download ...
        m.setattr(tvi.Inception3, "load_state_dict", lambda self, *a, **k: None)  # ... and nothing to load
        torch.manual_seed(0)
        net = pf.fid_inception_v3()
    path = tmp_path_factory.mktemp("hub") / INCEPTION_FILE
    torch.save(net.state_dict(), path)
    return path


def test_inception_from_a_local_file_matches_pytorch_fid_preprocessing(random_inception_file):
    ext = load_extractor("inception", path=random_inception_file)
    images = torch.rand(3, 1, 32, 32) * 2 - 1  # grey, small: repeated to RGB and resized to 299 inside
    feats = ext(images)
    assert ext.name == "inception" and feats.shape == (3, 2048)
    reference = build_fid_inception(torch.load(random_inception_file, weights_only=True)).eval()
    with torch.no_grad():
        expected = reference(((images + 1) / 2).repeat(1, 3, 1, 1))[0].flatten(1)  # pytorch-fid takes [0, 1]
    assert torch.allclose(feats, expected, atol=1e-5)


def test_inception_found_by_env_var_and_hub_cache(random_inception_file, tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_INCEPTION_WEIGHTS", str(random_inception_file))
    assert load_extractor("inception").name == "inception"
    monkeypatch.delenv("TOOLKIT_INCEPTION_WEIGHTS")
    hub = tmp_path / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    (hub / INCEPTION_FILE).write_bytes(random_inception_file.read_bytes())
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert load_extractor("inception").name == "inception"


def test_missing_or_broken_inception_weights_say_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.delenv("TOOLKIT_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(ToolkitError) as err:
        load_extractor("inception")
    msg = str(err.value)
    assert (
        "\n" not in msg
        and INCEPTION_FILE in msg
        and "TOOLKIT_INCEPTION_WEIGHTS" in msg
        and "fmnist-cnn" in msg
    )
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not weights")
    with pytest.raises(ToolkitError, match="not a usable FID InceptionV3 weight file"):
        load_extractor("inception", path=bad)
    with pytest.raises(ToolkitError, match="unknown feature extractor 'clip'"):
        load_extractor("clip")


def test_training_callback_logs_fid_and_kid_and_eval_cli_records(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TOOLKIT_CACHE", str(tmp_path / "cache"))
    from toolkit.cli import main
    from toolkit.runs import Run

    run = tmp_path / "run"
    args = ["train", *TINY, "--steps", "20", "--log-every", "10", "--eval-every", "10", "--eval-n", "64"]
    args += ["--eval-features", "fmnist-cnn"]  # typed: train picks as eval does otherwise (pixels8 here)
    assert main([*args, "--run-dir", str(run)]) == 0
    rows = Run(run).metrics()
    assert [r["step"] for r in rows if "fid" in r] == [10, 20]
    assert all(r["features"] == "fmnist-cnn" and np.isfinite(r["kid"]) for r in rows if "fid" in r)
    assert list((tmp_path / "cache" / "features").glob("digits-train-*-fmnist-cnn-*-n10000.npy"))  # cached
    capsys.readouterr()
    evaluate = ["eval", "--run-dir", str(run), "--n", "100", "--n-real", "200", "--extractor", "fmnist-cnn"]
    assert main(evaluate) == 0
    out, err = capsys.readouterr()
    assert out.startswith("step 20: fid[fmnist-cnn] ") and "precision" in out and "coverage" in out
    assert "warning: fmnist-cnn features come from a Fashion-MNIST classifier; on digits" in err
    record = json.loads((run / "evaluations.jsonl").read_text().splitlines()[-1])
    assert record["step"] == 20 and record["features"] == "fmnist-cnn" and record["n_fake"] == 100
    assert main(evaluate) == 0  # the same evaluation again replaces its row
    assert main([*evaluate[:-2], "--extractor", "pixels8"]) == 0  # another one is added
    rows = [json.loads(line) for line in (run / "evaluations.jsonl").read_text().splitlines()]
    assert [(r["step"], r["features"]) for r in rows] == [(20, "fmnist-cnn"), (20, "pixels8")]


def test_eval_picks_features_that_fit_the_data(tmp_path, monkeypatch, capsys):
    from toolkit.metrics.evaluate import default_extractor

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-weights"))
    monkeypatch.delenv("TOOLKIT_INCEPTION_WEIGHTS", raising=False)
    assert default_extractor("fashion-mnist")[0] == "fmnist-cnn"
    name, why = default_extractor("/home/me/photos")
    assert name == "pixels8" and "no InceptionV3 weights" in why and "--extractor inception" in why
    weights = tmp_path / "no-weights" / "hub" / "checkpoints" / INCEPTION_FILE
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"")
    assert default_extractor("/home/me/photos")[0] == "inception"


def test_a_conditional_generator_is_scored_in_the_data_class_proportions(tmp_path):
    from PIL import Image

    from toolkit.metrics.evaluate import class_proportions, proportional_labels

    assert proportional_labels(torch.tensor([0.25, 0.75]), 8).tolist() == [0, 0, 1, 1, 1, 1, 1, 1]
    assert torch.bincount(proportional_labels(torch.tensor([0.1, 0.3, 0.6]), 1000)).tolist() == [
        100,
        300,
        600,
    ]
    for name, count in (("rare", 3), ("common", 9)):
        (tmp_path / name).mkdir()
        for i in range(count):
            Image.fromarray(np.full((8, 8), i * 20, np.uint8)).save(tmp_path / name / f"{i}.png")
    assert class_proportions(str(tmp_path), resolution=8).tolist() == [0.75, 0.25]  # common, rare
