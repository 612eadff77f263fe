"""augment-dataset (a conditional run writes images of chosen classes into class folders) and lesson 13's
classifier: the command-line round trip on a user's folder, its one-line errors, atomic writing, the metrics
against scikit-learn, and the imbalanced subset with two rare classes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from toolkit.classifier import (
    class_weights,
    classic_augment,
    confusion_matrix,
    macro_f1,
    per_class_f1,
    per_class_precision,
    per_class_recall,
    scores,
    train_classifier,
)
from toolkit.cli import main
from toolkit.data import imbalanced_subset, load_dataset
from toolkit.errors import ToolkitError

TINY_CGAN = ["--batch-size", "16", "--width", "8", "--z-dim", "16", "--resolution", "32", "--no-progress"]


def make_folder(root: Path, counts: dict[str, int]) -> Path:
    """A user's imbalanced folder: one sub-folder per class of 16x16 grey PNGs (scikit-learn digits)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    for k, (name, n) in enumerate(counts.items()):
        (root / name).mkdir(parents=True)
        images = d.images[d.target == k][:n]
        for i, img in enumerate(images):
            a = (img / 16 * 255).astype(np.uint8)
            Image.fromarray(a).resize((16, 16)).save(root / name / f"img{i}.png")
    return root


@pytest.fixture(scope="module")
def cgan_run(tmp_path_factory):
    """A tiny conditional run trained through the CLI on a folder with three classes, one rare."""
    base = tmp_path_factory.mktemp("augment")
    folder = make_folder(base / "my_data", {"circle": 20, "line": 20, "rare_thing": 5})
    run = base / "run"
    argv = [
        "train",
        "--model",
        "cgan",
        "--data",
        str(folder),
        "--steps",
        "6",
        "--run-dir",
        str(run),
        *TINY_CGAN,
    ]
    assert main(argv) == 0
    return run, folder


def one_line_error(capsys, argv, match):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    assert match in err, err


def test_round_trip_cli_writes_class_folders_that_load_dataset_reads(cgan_run, tmp_path, capsys):
    run, folder = cgan_run
    out = tmp_path / "generated"
    argv = ["augment-dataset", "--run-dir", str(run), "--classes", "rare_thing,0", "--per-class", "7"]
    assert main([*argv, "--out", str(out)]) == 0
    assert "wrote 7 rare_thing, 7 circle" in capsys.readouterr().err
    back = load_dataset(str(out), resolution=32)
    assert back.class_names == ["circle", "rare_thing"]  # the chosen classes, named as in the user's folder
    assert torch.bincount(back.labels).tolist() == [7, 7]
    assert back.x.shape == (14, 1, 32, 32)  # grey stays grey, at the run's resolution
    assert sorted(p.name for p in (out / "rare_thing").iterdir())[:2] == ["gen_000000.png", "gen_000001.png"]
    manifest = json.loads((out / "augment.json").read_text())
    assert manifest["source"] == "generated" and manifest["counts"] == {"rare_thing": 7, "circle": 7}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary folder left behind"
    # merged with the user's own folder it is one labelled set with more rare images
    merged = tmp_path / "merged"
    import shutil

    shutil.copytree(folder, merged)
    for f in (out / "rare_thing").iterdir():
        shutil.copy(f, merged / "rare_thing" / f.name)
    m = load_dataset(str(merged), resolution=32)
    assert dict(zip(m.class_names, torch.bincount(m.labels).tolist())) == {
        "circle": 20,
        "line": 20,
        "rare_thing": 12,
    }


def test_same_seed_same_images_and_filters_keep_n(cgan_run, tmp_path):
    from toolkit.augment_dataset import augment_dataset

    run, _ = cgan_run
    a = augment_dataset(run, "line", 5, tmp_path / "a", seed=3)
    augment_dataset(run, "line", 5, tmp_path / "b", seed=3)
    assert a == {"line": 5}
    xa, xb = (load_dataset(str(tmp_path / p), resolution=32).x for p in "ab")
    assert torch.equal(xa, xb)
    assert augment_dataset(run, "rare_thing", 4, tmp_path / "d", "discriminator", candidates=3) == {
        "rare_thing": 4
    }
    assert (
        main(
            [
                "augment-dataset",
                "--run-dir",
                str(run),
                "--classes",
                "line",
                "--per-class",
                "3",
                "--out",
                str(tmp_path / "c"),
                "--filter",
                "classifier",
                "--filter-epochs",
                "1",
            ]
        )
        == 0
    )
    assert torch.bincount(load_dataset(str(tmp_path / "c"), resolution=32).labels).tolist() == [3]


def test_filter_keeps_the_best_scoring_candidates():
    from toolkit.augment_dataset import generate_classes

    class G(torch.nn.Module):
        num_classes = 2

        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, z, y):
            return z[:, :1, None, None].expand(-1, 1, 4, 4).tanh()

    torch.manual_seed(0)
    x_all, _, _ = generate_classes(G(), 4, [1], 30, seed=0)
    x, y, s = generate_classes(
        G(), 4, [1], 10, seed=0, scorer=lambda im, lab: im.mean((1, 2, 3)), candidates=3
    )
    assert len(x) == 10 and y.tolist() == [1] * 10
    brightest = torch.sort(x_all.mean((1, 2, 3)), descending=True).values[:10]
    assert torch.allclose(x.mean((1, 2, 3)), brightest), "the 10 best of 30 candidates are kept, best first"


def test_bad_inputs_are_one_line_errors(cgan_run, tmp_path, capsys):
    run, folder = cgan_run
    base = ["augment-dataset", "--run-dir", str(run), "--out", str(tmp_path / "o")]
    one_line_error(capsys, [*base, "--classes", "Dress", "--per-class", "3"], "unknown class 'Dress'")
    one_line_error(capsys, [*base, "--classes", "7", "--per-class", "3"], "class 7 is out of range")
    one_line_error(capsys, [*base, "--classes", "line", "--per-class", "0"], "--per-class must be >= 1")
    one_line_error(capsys, [*base, "--classes", "line,1", "--per-class", "2"], "names a class twice")
    one_line_error(capsys, [*base, "--classes", " , ", "--per-class", "2"], "--classes is empty")
    one_line_error(
        capsys,
        [*base, "--classes", "line", "--per-class", "2", "--filter", "classifier", "--candidates", "0"],
        "--candidates must be >= 1",
    )
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    one_line_error(
        capsys,
        [
            "augment-dataset",
            "--run-dir",
            str(run),
            "--out",
            str(tmp_path / "full"),
            "--classes",
            "line",
            "--per-class",
            "2",
        ],
        "exists and is not empty",
    )
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    one_line_error(
        capsys,
        [
            "augment-dataset",
            "--run-dir",
            str(tmp_path / "nope"),
            "--out",
            str(tmp_path / "o"),
            "--classes",
            "0",
            "--per-class",
            "2",
        ],
        "does not exist",
    )
    uncond = tmp_path / "dcgan"
    assert (
        main(
            [
                "train",
                "--model",
                "dcgan",
                "--data",
                str(folder),
                "--steps",
                "2",
                "--run-dir",
                str(uncond),
                *TINY_CGAN,
            ]
        )
        == 0
    )
    capsys.readouterr()
    one_line_error(
        capsys,
        [
            "augment-dataset",
            "--run-dir",
            str(uncond),
            "--out",
            str(tmp_path / "o"),
            "--classes",
            "0",
            "--per-class",
            "2",
        ],
        "needs a conditional run",
    )
    assert not (tmp_path / "o").exists(), "nothing written after an error"


def test_conditional_training_on_a_flat_folder_says_to_use_class_folders(tmp_path, capsys):
    flat = tmp_path / "flat"
    make_folder(tmp_path / "src", {"a": 6})
    (tmp_path / "src" / "a").rename(flat)
    one_line_error(
        capsys,
        [
            "train",
            "--model",
            "cgan",
            "--data",
            str(flat),
            "--steps",
            "2",
            "--run-dir",
            str(tmp_path / "r"),
            *TINY_CGAN,
        ],
        "put one sub-folder per class",
    )


def test_an_interrupted_write_leaves_no_folder(cgan_run, tmp_path, monkeypatch):
    from toolkit import augment_dataset as ad
    from toolkit.outputs import Staging

    run, _ = cgan_run
    calls = []
    real = Staging.write

    def failing(self, path, write, mode="wb"):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(self, path, write, mode)

    monkeypatch.setattr(Staging, "write", failing)
    with pytest.raises(ToolkitError, match="No space left"):
        ad.augment_dataset(run, "line", 5, tmp_path / "out")
    assert list(tmp_path.iterdir()) == [], "neither the folder nor its temporary twin remains"


# --- the classifier's metrics ----------------------------------------------------------------------------
def test_metrics_match_sklearn():
    from sklearn import metrics

    g = torch.Generator().manual_seed(0)
    y_true = torch.randint(0, 5, (400,), generator=g)
    y_pred = torch.where(torch.rand(400, generator=g) < 0.6, y_true, torch.randint(0, 5, (400,), generator=g))
    y_pred[y_pred == 4] = 3  # class 4 never predicted: precision 0/0 -> 0, as sklearn (zero_division=0)
    cm = confusion_matrix(y_true, y_pred, 5)
    assert cm.tolist() == metrics.confusion_matrix(y_true, y_pred, labels=range(5)).tolist()
    kw = dict(labels=range(5), zero_division=0, average=None)
    assert np.allclose(per_class_recall(cm), metrics.recall_score(y_true, y_pred, **kw))
    assert np.allclose(per_class_precision(cm), metrics.precision_score(y_true, y_pred, **kw))
    assert np.allclose(per_class_f1(cm), metrics.f1_score(y_true, y_pred, **kw))
    assert macro_f1(cm) == pytest.approx(metrics.f1_score(y_true, y_pred, average="macro", zero_division=0))
    assert macro_f1(cm) != pytest.approx(
        metrics.f1_score(y_true, y_pred, average="weighted", zero_division=0)
    )


def test_scores_and_weights_on_a_known_case():
    class Fixed(torch.nn.Module):  # predicts the class stored in the first pixel
        def forward(self, x):
            return torch.nn.functional.one_hot(x[:, 0, 0, 0].long(), 3).float()

    x = torch.tensor([0, 0, 1, 1, 1, 2, 2, 0]).float().view(8, 1, 1, 1)
    y = torch.tensor([0, 0, 1, 1, 2, 2, 2, 1])
    s = scores(Fixed(), x, y, ["a", "b", "c"])
    assert s["accuracy"] == pytest.approx(6 / 8)
    assert s["recall"] == pytest.approx({"a": 1.0, "b": 2 / 3, "c": 2 / 3})
    assert s["confusion"] == [[2, 0, 0], [1, 2, 0], [0, 1, 2]]
    w = class_weights(torch.tensor([0] * 6 + [1] * 2), 2)
    assert w.tolist() == pytest.approx([8 / 12, 8 / 4])


def test_classic_augment_flips_and_shifts_with_background():
    x = torch.arange(2 * 25).float().view(2, 1, 5, 5)
    out = classic_augment(x, torch.Generator().manual_seed(3), shift=1)
    assert out.shape == x.shape
    for img, src in zip(out, x):
        candidates = []
        for flipped in (src, src.flip(-1)):
            padded = torch.nn.functional.pad(flipped, (1, 1, 1, 1), value=-1.0)
            candidates += [padded[:, i : i + 5, j : j + 5] for i in range(3) for j in range(3)]
        assert any(torch.equal(img, c) for c in candidates), "each output is one flip + shift of its input"


def test_train_classifier_learns_and_oversampling_lifts_the_rare_class():
    g = torch.Generator().manual_seed(0)

    # three classes told apart by the mean brightness of the left half; class 2 rare (4 of 204)
    def make(n_per):
        xs, ys = [], []
        for c, n in enumerate(n_per):
            x = torch.randn(n, 1, 8, 8, generator=g) * 0.3
            x[..., :4] += (c - 1) * 0.8
            xs.append(x)
            ys.append(torch.full((n,), c))
        return torch.cat(xs), torch.cat(ys)

    x, y = make([100, 100, 4])
    xt, yt = make([100, 100, 100])
    plain = scores(train_classifier(x, y, 3, steps=60, batch_size=32, width=8), xt, yt, ["0", "1", "2"])
    over = scores(
        train_classifier(x, y, 3, steps=60, batch_size=32, width=8, balance="oversample"),
        xt,
        yt,
        ["0", "1", "2"],
    )
    assert plain["recall"]["0"] > 0.8 and plain["recall"]["1"] > 0.6, "the classifier trains"
    assert over["recall"]["2"] > plain["recall"]["2"] + 0.2, "balanced batches lift the rare class's recall"
    with pytest.raises(ToolkitError, match="balance must be"):
        train_classifier(x, y, 3, balance="smote")


def test_imbalanced_subset_with_two_rare_classes_and_fewer_others():
    labels = torch.arange(4).repeat_interleave(50)
    idx = imbalanced_subset(labels, [1, 3], keep=5, seed=0, others=20)
    assert torch.bincount(labels[idx]).tolist() == [20, 5, 20, 5]
    assert torch.equal(idx, imbalanced_subset(labels, [1, 3], keep=5, seed=0, others=20))
    assert not torch.equal(idx, imbalanced_subset(labels, [1, 3], keep=5, seed=1, others=20))
    assert torch.equal(imbalanced_subset(labels, 1, 5, seed=2), imbalanced_subset(labels, [1], 5, seed=2)), (
        "one class given as an int or a list"
    )
    with pytest.raises(ToolkitError, match="others must be between 1 and 50"):
        imbalanced_subset(labels, [1], 5, others=60)
    with pytest.raises(ToolkitError, match="once"):
        imbalanced_subset(labels, [1, 1], 5)


def test_a_run_on_an_in_memory_subset_records_it_and_the_classifier_filter_uses_exactly_it(
    tmp_path, capsys, monkeypatch
):
    """Lesson 13's case: a cGAN trained on an imbalanced subset passed in from Python. config.json's data
    still says "digits" (the default), so the classifier filter must not rebuild the full set from it: the
    run records the subset's class counts and SHA-256, the filter refuses without the data (CLI: one line)
    and, given the data back, trains on exactly those images."""
    import hashlib

    import toolkit.classifier
    from toolkit.augment_dataset import augment_dataset
    from toolkit.runs import Run
    from toolkit.training import Trainer, config_for

    digits = load_dataset("digits")
    subset = digits.subset(imbalanced_subset(digits.labels, 3, keep=4, others=10))
    config = config_for(
        "cgan", data="digits", steps=2, batch_size=8, width=8, z_dim=16, sample_every=0, checkpoint_every=0
    )
    Trainer(config, data=subset, run_dir=tmp_path / "run", progress=False).fit()
    recorded = Run(tmp_path / "run").config()
    assert recorded["data"] == "digits" and recorded["data_passed_in"] is True
    assert recorded["passed_in_data"]["samples"] == 94
    from toolkit.cli.eval import evaluate_run

    notes = []  # eval scores it against all of digits, and says the run trained on less
    evaluate_run(tmp_path / "run", "pixels8", n=20, n_real=40, say=notes.append)
    assert any("trained on 94 samples passed in from Python" in line for line in notes), notes
    assert recorded["passed_in_data"]["class_counts"] == {
        n: 4 if n == "3" else 10 for n in digits.class_names
    }
    by_hand = hashlib.sha256()  # images then labels, each as dtype, shape and raw bytes
    for t in (subset.x, subset.labels):
        by_hand.update(f"{t.dtype}{list(t.shape)}".encode())
        by_hand.update(t.contiguous().view(torch.uint8).numpy().tobytes())
    assert recorded["passed_in_data"]["sha256"] == by_hand.hexdigest()

    run, out = tmp_path / "run", tmp_path / "out"
    argv = ["augment-dataset", "--run-dir", str(run), "--classes", "3", "--per-class", "2", "--out", str(out)]
    one_line_error(capsys, [*argv, "--filter", "classifier"], "trained on 94 samples passed in from Python")
    with pytest.raises(ToolkitError, match="not on digits as config.json's data says"):
        augment_dataset(run, "3", 2, out, filter="classifier")
    other = digits.subset(imbalanced_subset(digits.labels, 3, keep=4, others=10, seed=1))
    with pytest.raises(ToolkitError, match="not the data .* trained on .*SHA-256 differs"):
        augment_dataset(run, "3", 2, out, filter="classifier", data=other)
    assert not out.exists()  # refused before any work
    assert main([*argv, "--filter", "discriminator"]) == 0  # the run's own D needs no data

    trained_on = []
    real_train = toolkit.classifier.train_classifier
    monkeypatch.setattr(
        toolkit.classifier,
        "train_classifier",
        lambda x, y, *a, **kw: trained_on.append((x, y)) or real_train(x, y, *a, **kw),
    )
    counts = augment_dataset(
        run, "3", 2, tmp_path / "out2", filter="classifier", classifier_epochs=1, data=subset
    )
    assert counts == {"3": 2} and len(trained_on) == 1
    assert torch.equal(trained_on[0][0], subset.x) and torch.equal(trained_on[0][1], subset.labels)


def test_early_stopping_returns_the_weights_with_the_lowest_class_balanced_validation_loss():
    """Lesson 13's protocol: train to convergence on a held-out validation split. The returned network must be
    the one with the lowest class-balanced validation loss (each class's mean cross-entropy, averaged over
    classes), and training must stop ``patience`` measurements after that lowest one."""
    import torch.nn.functional as F

    from toolkit.classifier import balanced_loss

    digits = load_dataset("digits")
    g = torch.Generator().manual_seed(0)
    order = torch.randperm(len(digits), generator=g)
    train_idx, val_idx = order[:60], order[60:400]  # 60 training images: it overfits, the loss turns
    val = (digits.x[val_idx], digits.labels[val_idx])
    net = train_classifier(
        digits.x[train_idx],
        digits.labels[train_idx],
        10,
        steps=400,
        batch_size=32,
        val=val,
        eval_every=10,
        patience=3,
        lr=5e-3,
    )
    log = net.early_stopping
    losses = dict(log["val_losses"])
    assert log["best_step"] == min(losses, key=losses.get)
    assert abs(balanced_loss(net, *val) - losses[log["best_step"]]) < 1e-5  # those weights came back
    assert log["stopped_step"] == log["best_step"] + 3 * 10 < 400  # stopped early, 3 checks after the best

    with torch.no_grad():  # the balanced loss by hand: per-class means, then their mean
        per_image = F.cross_entropy(net(val[0]), val[1], reduction="none")
    by_hand = sum(per_image[val[1] == c].mean().item() for c in range(10)) / 10
    assert abs(balanced_loss(net, *val) - by_hand) < 1e-5
    with pytest.raises(ToolkitError, match="patience and eval_every must be >= 1"):
        train_classifier(digits.x[:8], digits.labels[:8], 10, val=val, patience=0)
