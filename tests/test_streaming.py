"""Image folders too large for memory are streamed from disk by DataLoader workers, chosen by size: the
same images, batches, resume and rank split as the in-memory loader, and the same one-line errors."""

import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from toolkit.data import BatchSampler, load_dataset, load_image_folder
from toolkit.data.streaming import StreamingImages
from toolkit.errors import ToolkitError
from toolkit.training import TrainConfig, Trainer


def make_folder(root, per_class=12, size=20):
    rng = np.random.default_rng(0)
    for c in ("cats", "dogs"):
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            a = rng.integers(0, 256, (size, size + 4 * i % 9, 3), dtype=np.uint8)  # mixed sizes: cropped
            Image.fromarray(a).save(root / c / f"{i:02d}.png")
    return root


@pytest.fixture
def folder(tmp_path):
    return make_folder(tmp_path / "pets")


def batches(sampler, n):
    return [sampler.next() for _ in range(n)]


def test_a_streamed_folder_decodes_the_same_images_as_the_in_memory_loader(folder):
    mem = load_image_folder(folder, resolution=16, stream=False)
    streamed = load_image_folder(folder, resolution=16, stream=True)
    assert isinstance(streamed, StreamingImages) and streamed.info["streamed"]
    assert streamed.shape == mem.shape == (3, 16, 16) and streamed.class_names == mem.class_names
    assert torch.equal(streamed.images(len(mem)), mem.x)
    assert torch.equal(streamed.labels, mem.labels)


@pytest.mark.parametrize("workers", [0, 2])
def test_streamed_batches_equal_the_in_memory_batches_across_epochs_and_resume(folder, workers):
    mem = load_image_folder(folder, resolution=16, stream=False)
    streamed = load_image_folder(folder, resolution=16, stream=True)
    streamed.workers = workers
    a, b = BatchSampler(mem, 5, seed=1), streamed.sampler(5, seed=1, device="cpu")
    for x, y in zip(batches(a, 7), batches(b, 7)):  # 24 images: 4 batches of 5 per epoch, then the next
        assert torch.equal(x["image"], y["image"]) and torch.equal(x["label"], y["label"])
    resumed = streamed.sampler(5, seed=1, device="cpu")
    resumed.load_state_dict(b.state_dict())
    assert torch.equal(resumed.next()["image"], a.next()["image"])


def test_two_ranks_take_the_halves_of_the_global_batch(folder):
    streamed = load_image_folder(folder, resolution=16, stream=True)
    one = streamed.sampler(8, seed=2, device="cpu")
    ranks = [streamed.sampler(4, seed=2, device="cpu", rank=r, world_size=2) for r in (0, 1)]
    for _ in range(4):
        both = torch.cat([r.next()["image"] for r in ranks])
        assert torch.equal(both, one.next()["image"])


def test_a_zip_streams_with_workers_each_opening_it(folder, tmp_path):
    z = tmp_path / "pets.zip"
    with zipfile.ZipFile(z, "w") as f:
        for p in sorted(folder.rglob("*.png")):
            f.write(p, "pets/" + p.relative_to(folder).as_posix())  # one top folder: stripped
    mem = load_image_folder(folder, resolution=16, stream=False)
    streamed = load_image_folder(z, resolution=16, stream=True)
    streamed.workers = 2
    a, b = BatchSampler(mem, 6, seed=0), streamed.sampler(6, seed=0, device="cpu")
    for x, y in zip(batches(a, 5), batches(b, 5)):
        assert torch.equal(x["image"], y["image"])


def test_too_large_for_memory_is_streamed_automatically_and_trains(folder, monkeypatch):
    monkeypatch.setattr("toolkit.data.base.memory_bytes", lambda: 100_000)  # a 100 kB machine
    data = load_dataset(str(folder), resolution=32, limit=20)
    assert isinstance(data, StreamingImages) and len(data) == 20
    cfg = TrainConfig(
        data=str(folder),
        resolution=32,
        batch_size=4,
        steps=4,
        z_dim=8,
        width=8,
        log_every=2,
        sample_every=0,
        threads=1,
    )
    t = Trainer(cfg, progress=False)
    assert isinstance(t.data, StreamingImages)
    rows = t.fit()
    assert [r["step"] for r in rows] == [2, 4] and np.isfinite(rows[-1]["loss_d"])


def test_files_that_do_not_decode_are_replaced_then_named_when_none_of_their_class_does(folder, monkeypatch):
    monkeypatch.setattr("toolkit.data.streaming.MODE_SAMPLE", 1)  # else found while sampling the modes
    (folder / "dogs" / "05.png").write_bytes(b"not a png")
    streamed = load_image_folder(folder, resolution=16, stream=True)
    streamed.workers = 1
    batch = streamed.sampler(24, seed=0, device="cpu").next()  # one bad file: the batch is still full
    assert batch["image"].shape == (24, 3, 16, 16) and batch["label"].tolist().count(1) == 12
    for i in range(12):
        (folder / "dogs" / f"{i:02d}.png").write_bytes(b"not a png")
    with pytest.raises(ToolkitError) as info:  # raised in a worker process, arrives as one line
        streamed.sampler(24, seed=0, device="cpu").next()
    message = str(info.value)
    assert message.startswith("cannot read image dogs/") and "\n" not in message
    assert message.endswith("(and the next 7 images do not decode either)")
