"""Image folders too large for memory are streamed from disk by DataLoader workers, chosen by size: the
same images, batches, resume and rank split as the in-memory loader, and the same one-line errors.

Then the streamed image folder value by value (formerly tests/test_streaming_values.py), in-process and mostly
without worker processes: how many workers, reading files and zips (one handle per process), subsets of
subsets, the DataLoader each epoch is planned as, errors raised in a worker made one line again, the state,
and what a folder or zip streams as."""

from __future__ import annotations

import os
import pickle
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from toolkit.data import BatchSampler, load_dataset, load_image_folder, streaming
from toolkit.data.decode import list_entries
from toolkit.data.streaming import StreamingImages, StreamSampler, stream_image_folder
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


# --- value by value (formerly tests/test_streaming_values.py) ----------------------------------------
def coded_folder(root, per_class=(3, 2), mode="RGB", size=(6, 6)):
    """Class folders c0, c1, ...; image k (counting over all classes) is filled with grey level 10 * k."""
    k = 0
    for c, count in enumerate(per_class):
        (root / f"c{c}").mkdir(parents=True, exist_ok=True)
        for i in range(count):
            Image.new(mode, size, (10 * k,) * 3 if mode == "RGB" else 10 * k).save(
                root / f"c{c}" / f"{i}.png"
            )
            k += 1
    return root


def stream(path, labelled=True, channels=None, name=None, resolution=4, workers=0) -> StreamingImages:
    entries, skipped = list_entries(path)
    data = stream_image_folder(path, entries, skipped, labelled, resolution, channels, name)
    data.workers = workers
    return data


def levels(x: torch.Tensor) -> list[int]:
    return [round(v) for v in ((x[:, 0, 0, 0] + 1) * 127.5).tolist()]


# --- workers and files -----------------------------------------------------------------------------
@pytest.mark.parametrize("cores, workers", [(1, 1), (2, 1), (3, 2), (5, 4), (16, 4)])
def test_one_core_is_left_to_training_and_at_most_four_workers(monkeypatch, cores, workers):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    assert streaming.default_workers() == workers


def test_without_affinity_the_cpu_count_decides(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert streaming.default_workers() == 2
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert streaming.default_workers() == 1


def test_files_are_read_from_a_folder_or_a_zip_opened_once_per_process(tmp_path, monkeypatch):
    (tmp_path / "a.bin").write_bytes(b"AAA")
    files = streaming._Files(tmp_path, ["a.bin"], is_zip=False)
    assert files.read(0) == b"AAA"
    z = tmp_path / "set.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("x/1", b"one")
        f.writestr("x/2", b"two")
    files = streaming._Files(z, ["x/1", "x/2"], is_zip=True)
    assert files._zip is None  # nothing opened until the first read
    assert files.read(1) == b"two" and files.read(0) == b"one"
    handle = files._zip
    assert files.read(0) == b"one" and files._zip is handle  # the same handle in the same process
    monkeypatch.setattr(os, "getpid", lambda: -5)  # as in a DataLoader worker
    assert files.read(1) == b"two" and files._zip is not handle and files._pid == -5
    sent = pickle.loads(pickle.dumps(files))  # to a worker: without the open zip
    assert sent._zip is None and sent._pid is None and sent.members == ["x/1", "x/2"] and sent.is_zip
    assert files._zip is not None  # the sender keeps its own
    assert sent.read(0) == b"one"


# --- the set ------------------------------------------------------------------------------------------
def test_a_streamed_set_describes_itself_like_tensor_data(tmp_path, monkeypatch):
    root = coded_folder(tmp_path / "pets", per_class=(3, 2))
    data = stream(root)
    assert len(data) == 5 and data.num_classes == 2 and data.class_names == ["c0", "c1"]
    assert data.keys == ("image", "label") and data.shape == (3, 4, 4) and data.kind == "images"
    assert data.labels.tolist() == [0, 0, 0, 1, 1] and data.name == "pets"
    assert levels(data.images(3)) == [0, 10, 20] and levels(data.images(99)) == [0, 10, 20, 30, 40]
    assert levels(data.decode([4, 0])) == [40, 0]
    unlabelled = stream(root, labelled=False, name="mine")
    assert unlabelled.keys == ("image",) and unlabelled.labels is None and unlabelled.num_classes == 0
    assert unlabelled.name == "mine"
    monkeypatch.setattr(streaming, "default_workers", lambda: 3)
    entries, skipped = list_entries(root)
    assert stream_image_folder(root, entries, skipped, True, 4, None, None).workers == 3
    assert StreamingImages("n", None, [], None, [], 4, 1, {}, workers=0).workers == 0


def test_a_subset_of_a_subset_points_at_the_right_files(tmp_path):
    data = stream(coded_folder(tmp_path / "pets", per_class=(3, 3)))
    data.info["note"] = "x"
    sub = data.subset([5, 1, 3], name="part")
    assert sub.name == "part" and len(sub) == 3 and sub.labels.tolist() == [1, 0, 1]
    assert levels(sub.images(3)) == [50, 10, 30]
    subsub = sub.subset(torch.tensor([2, 0]))
    assert subsub.name == "part" and levels(subsub.images(2)) == [30, 50] and subsub.labels.tolist() == [1, 1]
    sub.info["note"] = "changed"
    assert data.info["note"] == "x" and len(data) == 6 and data.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert stream(tmp_path / "pets", labelled=False).subset([1]).labels is None
    dataset = streaming._Decode(sub)
    assert len(dataset) == 3 and levels(dataset[1].unsqueeze(0)) == [10]


# --- the sampler ---------------------------------------------------------------------------------------
def permutation(seed: int, epoch: int, n: int) -> list[int]:
    """BatchSampler's epoch permutation (toolkit/data/base.py)."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch)).tolist()


def test_batches_walk_the_epoch_permutation_and_turn_the_epoch(tmp_path):
    data = stream(coded_folder(tmp_path / "pets", per_class=(4, 3)))  # 7 images
    sampler = data.sampler(3, seed=2, device="cpu")
    assert isinstance(sampler, StreamSampler)
    first, second = permutation(2, 0, 7), permutation(2, 1, 7)
    drawn = [sampler.next() for _ in range(4)]
    want = [first[0:3], first[3:6], second[0:3], second[3:6]]  # the 7th image of epoch 0 is dropped
    assert [levels(b["image"]) for b in drawn] == [[10 * i for i in w] for w in want]
    assert [b["label"].tolist() for b in drawn] == [[int(i >= 4) for i in w] for w in want]
    assert sampler.state_dict() == {"epoch": 1, "position": 6}


def test_a_full_last_batch_is_drawn_before_the_epoch_turns(tmp_path):
    data = stream(coded_folder(tmp_path / "pets", per_class=(3, 3)))
    sampler = data.sampler(3, seed=0, device="cpu")
    perm = permutation(0, 0, 6)
    assert levels(sampler.next()["image"]) == [10 * i for i in perm[0:3]]
    assert levels(sampler.next()["image"]) == [10 * i for i in perm[3:6]]
    assert sampler.state_dict() == {"epoch": 0, "position": 6}
    assert levels(sampler.next()["image"]) == [10 * i for i in permutation(0, 1, 6)[0:3]]


def test_rank_one_of_two_takes_the_second_half_of_each_global_batch(tmp_path):
    data = stream(coded_folder(tmp_path / "pets", per_class=(5, 5)))
    sampler = data.sampler(2, seed=1, device="cpu", rank=1, world_size=2)
    perm, nxt = permutation(1, 0, 10), permutation(1, 1, 10)
    drawn = [levels(sampler.next()["image"]) for _ in range(3)]
    assert drawn == [[10 * i for i in perm[2:4]], [10 * i for i in perm[6:8]], [10 * i for i in nxt[2:4]]]
    assert sampler.state_dict() == {"epoch": 1, "position": 4}


def test_each_epoch_is_one_data_loader_planned_from_the_position(tmp_path, monkeypatch):
    made = []
    real = streaming.DataLoader

    def loader(dataset, **kw):
        made.append(kw)
        return real(dataset, **{**kw, "num_workers": 0, "prefetch_factor": None})

    monkeypatch.setattr(streaming, "DataLoader", loader)
    data = stream(coded_folder(tmp_path / "pets", per_class=(5, 4)), workers=2)  # 9 images
    sampler = data.sampler(2, seed=0, device="cpu", rank=0, world_size=2)
    sampler.load_state_dict({"epoch": 0, "position": 4})
    sampler.next()
    perm = permutation(0, 0, 9)
    assert made == [dict(batch_sampler=[perm[4:6]], num_workers=2, pin_memory=False, prefetch_factor=4)]
    sampler.next()  # position 8 + 4 > 9: the next epoch
    assert made[1]["batch_sampler"] == [permutation(0, 1, 9)[0:2], permutation(0, 1, 9)[4:6]]
    assert sampler.state_dict() == {"epoch": 1, "position": 4}
    data.workers = 0
    data.sampler(2, seed=0, device="cpu").next()
    assert made[2]["num_workers"] == 0 and made[2]["prefetch_factor"] is None
    assert len(made[2]["batch_sampler"]) == 4  # 9 // 2 whole batches


def test_a_sampler_made_directly_is_rank_zero_of_one(tmp_path):
    data = stream(coded_folder(tmp_path / "pets"))
    direct = StreamSampler(data, 2, 0, "cpu")
    assert (direct.rank, direct.world_size) == (0, 1)
    assert levels(direct.next()["image"]) == [10 * i for i in permutation(0, 0, 5)[0:2]]


def test_batches_for_a_gpu_are_decoded_into_pinned_memory(tmp_path, monkeypatch):
    made = []
    monkeypatch.setattr(streaming, "DataLoader", lambda dataset, **kw: made.append(kw) or [])
    data = stream(coded_folder(tmp_path / "pets"))
    data.sampler(2, seed=0, device="cuda")._start_epoch()  # planned only: this machine needs no GPU
    data.sampler(2, seed=0, device="cpu")._start_epoch()
    assert [m["pin_memory"] for m in made] == [True, False]


def test_batches_go_to_the_device(tmp_path, monkeypatch):
    data = stream(coded_folder(tmp_path / "pets"))
    sampler = data.sampler(2, seed=0, device="meta")
    assert sampler.device == torch.device("meta")
    batch = sampler.next()
    assert batch["image"].device.type == "meta" and batch["label"].device.type == "meta"


def test_an_error_from_a_worker_is_one_line_again(tmp_path):
    data = stream(coded_folder(tmp_path / "pets"))
    sampler = data.sampler(2, seed=0, device="cpu")

    def failing():
        raise ToolkitError(
            "Caught ToolkitError in DataLoader worker process 0.\n"
            "Original Traceback (most recent call last):\n"
            '  File "x.py", line 1, in f\ntoolkit.errors.ToolkitError: cannot read image c1/0.png in pets\n'
        )
        yield

    sampler._batches = failing()
    with pytest.raises(ToolkitError) as err:
        sampler.next()
    assert str(err.value) == "cannot read image c1/0.png in pets" and err.value.__cause__ is None
    assert sampler.state_dict() == {"epoch": 0, "position": 0}  # nothing counted as drawn

    def plain():  # without workers the error arrives as it was raised
        raise ToolkitError("cannot read image c0/1.png in pets (OSError: truncated)")
        yield

    sampler._batches = plain()
    with pytest.raises(ToolkitError) as err:
        sampler.next()
    assert str(err.value) == "cannot read image c0/1.png in pets (OSError: truncated)"


def test_an_unreadable_file_is_left_out_or_replaced_by_the_next_of_its_class(tmp_path, monkeypatch, capsys):
    root = coded_folder(tmp_path / "pets")  # c0: levels 0, 10, 20; c1: 30, 40
    (root / "c0" / "1.png").write_bytes(b"not a png")
    data = stream(root)  # met while reading the modes: left out, named
    assert data.info["unreadable"] == ["c0/1.png"] and len(data) == 4
    assert levels(data.images(4)) == [0, 20, 30, 40] and data.labels.tolist() == [0, 0, 1, 1]
    monkeypatch.setattr(streaming, "MODE_SAMPLE", 1)
    data = stream(root)  # met while decoding: the next image of its class (c0/2.png) instead, named once
    assert data.info["unreadable"] == [] and len(data) == 5
    assert levels(data.decode([1, 1, 3])) == [20, 20, 30]
    err = capsys.readouterr().err
    assert err.startswith(f"skipped: cannot read image c0/1.png in {root} (UnidentifiedImageError")
    assert err.count("c0/1.png") == 1 and len(err.splitlines()) == 1
    for name in ("0.png", "2.png"):
        (root / "c0" / name).write_bytes(b"not a png")
    with pytest.raises(ToolkitError) as err:  # no readable image of class c0 left
        data.decode([0])
    assert str(err.value).startswith(f"cannot read image c0/0.png in {root} (UnidentifiedImageError")
    assert str(err.value).endswith("(and the next 2 images do not decode either)")


def test_half_of_the_first_files_unreadable_is_one_line_with_the_share(tmp_path):
    root = coded_folder(tmp_path / "pets", per_class=(2, 2))
    (root / "c0" / "0.png").write_bytes(b"x")
    (root / "c1" / "1.png").write_bytes(b"x")
    with pytest.raises(ToolkitError) as err:
        stream(root)
    assert str(err.value).startswith(f"2 of 4 images in {root} (50%) do not decode, half or more: check")


def test_the_state_resumes_exactly_and_is_read_as_integers(tmp_path):
    data = stream(coded_folder(tmp_path / "pets", per_class=(4, 3)))
    sampler = data.sampler(3, seed=5, device="cpu")
    for _ in range(3):
        sampler.next()
    state = sampler.state_dict()
    want = [levels(sampler.next()["image"]) for _ in range(3)]
    again = data.sampler(3, seed=5, device="cpu")
    again.next()  # a loader already running is dropped on load
    again.load_state_dict({"epoch": np.int64(state["epoch"]), "position": float(state["position"])})
    assert again.state_dict() == state and all(type(v) is int for v in again.state_dict().values())
    assert [levels(again.next()["image"]) for _ in range(3)] == want


@pytest.mark.parametrize(
    "batch, world, message",
    [
        (0, 1, "batch size 0 must be between 1 and 5 for pets (5 images)"),
        (6, 1, "batch size 6 must be between 1 and 5 for pets (5 images)"),
        (3, 2, "batch size 3 must be between 1 and 2 for pets (5 images over 2 ranks)"),
    ],
)
def test_a_batch_larger_than_the_set_is_one_line(tmp_path, batch, world, message):
    data = stream(coded_folder(tmp_path / "pets"))
    with pytest.raises(ToolkitError) as err:
        data.sampler(batch, seed=0, device="cpu", world_size=world)
    assert str(err.value) == message
    assert data.sampler(5, seed=0, device="cpu").next()["image"].shape[0] == 5
    assert data.sampler(1, seed=0, device="cpu").next()["image"].shape[0] == 1


# --- what a folder or zip streams as ----------------------------------------------------------------
def test_a_folder_streams_with_its_info_and_channels_from_its_modes(tmp_path, monkeypatch):
    root = coded_folder(tmp_path / "greys", per_class=(2,), mode="L")
    data = stream(root)
    assert data.shape == (1, 4, 4) and data.channels == 1
    assert data.info == {
        "source": str(root),
        "skipped": 0,
        "unreadable": [],
        "modes": ["L"],
        "resolution": 4,
        "channels": 1,
        "streamed": True,
    }
    assert stream(root).images(2).shape == (2, 1, 4, 4)  # decoded as one channel too
    assert stream(root, channels=3).shape == (3, 4, 4) and stream(root, channels=3).images(1).shape == (
        1,
        3,
        4,
        4,
    )
    Image.new("RGB", (6, 6), (200, 0, 0)).save(root / "c0" / "9.png")  # a colour image, last in order
    assert stream(root).channels == 3 and stream(root).info["modes"] == ["L", "RGB"]
    monkeypatch.setattr(streaming, "MODE_SAMPLE", 2)  # only the first two files decide
    assert stream(root).channels == 1 and stream(root).info["modes"] == ["L"]


def zip_of(folder, z, prefix=""):
    with zipfile.ZipFile(z, "w") as f:
        for p in sorted(folder.rglob("*.png")):
            f.write(p, prefix + p.relative_to(folder).as_posix())
    return z


def test_a_zip_of_one_top_folder_streams_its_members_by_their_stored_names(tmp_path):
    root = coded_folder(tmp_path / "pets", per_class=(2, 2))
    z = zip_of(root, tmp_path / "pets.zip", prefix="pets/")
    with zipfile.ZipFile(z, "a") as f:  # folder entries, as `zip -r` writes them
        f.writestr("pets/", b"")
        f.writestr("pets/c0/", b"")
    data = stream(z)
    assert data.files.is_zip and data.files.members == [
        "pets/c0/0.png",
        "pets/c0/1.png",
        "pets/c1/0.png",
        "pets/c1/1.png",
    ]
    assert data.rel_names == ["c0/0.png", "c0/1.png", "c1/0.png", "c1/1.png"]
    assert data.class_names == ["c0", "c1"] and levels(data.images(4)) == [0, 10, 20, 30]
    assert data.name == "pets"


def test_a_zip_made_on_a_mac_streams_like_its_one_top_folder(tmp_path):
    """macOS's Compress adds __MACOSX/ beside the folder: it is not a second top folder (the in-memory
    loader never thought so; the streamed one looked its members up with the folder kept and failed)."""
    root = coded_folder(tmp_path / "pets", per_class=(2, 1))
    z = zip_of(root, tmp_path / "pets.zip", prefix="pets/")
    with zipfile.ZipFile(z, "a") as f:
        f.writestr("__MACOSX/pets/c0/._0.png", b"resource fork")
    data = stream(z)
    assert data.files.members == ["pets/c0/0.png", "pets/c0/1.png", "pets/c1/0.png"]
    assert data.rel_names == ["c0/0.png", "c0/1.png", "c1/0.png"] and levels(data.images(3)) == [0, 10, 20]


def test_a_zip_of_several_top_folders_keeps_its_names(tmp_path):
    root = coded_folder(tmp_path / "pets", per_class=(2, 1))
    z = zip_of(root, tmp_path / "pets.zip")  # c0/..., c1/...: the folders are the classes
    with zipfile.ZipFile(z, "a") as f:
        f.writestr("c1/", b"")  # a folder entry: not a member
    data = stream(z)
    assert data.files.members == ["c0/0.png", "c0/1.png", "c1/0.png"] and data.class_names == ["c0", "c1"]
    assert levels(data.images(3)) == [0, 10, 20]
    flat = zip_of(root / "c0", tmp_path / "flat.zip", prefix="top/")
    with zipfile.ZipFile(flat, "a") as f:
        f.writestr("readme.txt", b"a file at the top: nothing is stripped")
    data = stream(flat, labelled=False)
    assert data.files.members == ["top/0.png", "top/1.png"] and levels(data.images(2)) == [0, 10]


def test_a_zip_of_one_flat_folder_or_of_one_image(tmp_path):
    root = coded_folder(tmp_path / "pets", per_class=(2,))
    data = stream(zip_of(root / "c0", tmp_path / "flat.zip", prefix="top/"), labelled=False)
    assert data.rel_names == ["0.png", "1.png"] and data.files.members == ["top/0.png", "top/1.png"]
    assert levels(data.images(2)) == [0, 10]
    one = stream(zip_of(root / "c0", tmp_path / "one.zip"), labelled=False)  # 0.png, 1.png at the top
    assert one.files.members == ["0.png", "1.png"]
    with zipfile.ZipFile(tmp_path / "single.zip", "w") as f:
        f.write(root / "c0" / "1.png", "1.png")
    single = stream(tmp_path / "single.zip", labelled=False)
    assert single.files.members == ["1.png"] and levels(single.images(1)) == [10]
