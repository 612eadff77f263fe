"""The Fashion-MNIST loader value by value, on IDX files written byte by byte in a temporary folder: where
it looks and in which order, the IDX header and size checks, the download fallback, the [-1, 1] scaling
and the 2-pixel padding. Runs in milliseconds and needs no installed data (tests/data/test_data.py loads the
real set)."""

from __future__ import annotations

import gzip
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from toolkit.data import fashion_mnist
from toolkit.errors import ToolkitError

IMAGES = np.array([[[0, 255], [51, 204]], [[255, 0], [127, 128]], [[1, 2], [3, 4]]], dtype=np.uint8)
LABELS = np.array([9, 0, 4], dtype=np.uint8)
REAL_DOWNLOAD = fashion_mnist._download  # the `nowhere` fixture replaces it


def idx(array: np.ndarray) -> bytes:
    """LeCun's IDX format: 0, 0, type 0x08 (uint8), the number of dimensions, each size as big-endian
    int32, then the bytes."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def write_set(folder: Path, gz: bool = False, images=IMAGES, labels=LABELS, skip: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for images_stem, labels_stem in fashion_mnist.FILES.values():
        for stem, array in ((images_stem, images), (labels_stem, labels)):
            if stem == skip:
                continue
            data = idx(array)
            if gz:
                (folder / (stem + ".gz")).write_bytes(gzip.compress(data))
            else:
                (folder / stem).write_bytes(data)
    return folder


@pytest.fixture
def nowhere(monkeypatch, tmp_path):
    """No data anywhere but where a test puts it: no env vars, an empty torchvision cache, no Debian
    folder, a working directory without data/, and no download."""
    monkeypatch.delenv("TOOLKIT_DATA", raising=False)
    monkeypatch.delenv("TORCH_HOME", raising=False)
    monkeypatch.setattr(fashion_mnist, "TORCHVISION_CACHE", tmp_path / "cache")
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "debian")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(fashion_mnist, "_download", lambda: None)
    return tmp_path


# --- where it looks ---------------------------------------------------------------------------------
def test_candidate_folders_in_order_without_environment(nowhere):
    assert fashion_mnist.candidate_dirs() == [
        nowhere / "cache" / "FashionMNIST" / "raw",
        Path("data") / "FashionMNIST" / "raw",
        nowhere / "debian",
    ]


def test_candidate_folders_with_toolkit_data_and_torch_home_come_first(nowhere, monkeypatch):
    monkeypatch.setenv("TOOLKIT_DATA", "~/my-data")
    monkeypatch.setenv("TORCH_HOME", "/opt/torch")
    mine = Path("~/my-data").expanduser()
    assert fashion_mnist.candidate_dirs() == [
        mine,
        mine / "FashionMNIST" / "raw",
        mine / "fashion-mnist",
        Path("/opt/torch") / "datasets" / "FashionMNIST" / "raw",
        nowhere / "cache" / "FashionMNIST" / "raw",
        Path("data") / "FashionMNIST" / "raw",
        nowhere / "debian",
    ]


def test_an_empty_environment_variable_is_not_a_folder(nowhere, monkeypatch):
    monkeypatch.setenv("TOOLKIT_DATA", "")
    monkeypatch.setenv("TORCH_HOME", "")
    assert len(fashion_mnist.candidate_dirs()) == 3


def test_a_file_is_found_plain_or_gzipped_and_plain_wins(tmp_path):
    assert fashion_mnist._find_file(tmp_path, "x") is None
    (tmp_path / "x.gz").write_bytes(b"")
    assert fashion_mnist._find_file(tmp_path, "x") == tmp_path / "x.gz"
    (tmp_path / "x").write_bytes(b"")
    assert fashion_mnist._find_file(tmp_path, "x") == tmp_path / "x"
    (tmp_path / "d").mkdir()  # a folder of that name is not the file
    assert fashion_mnist._find_file(tmp_path, "d") is None


def test_the_first_folder_holding_all_four_files_is_chosen(nowhere, monkeypatch):
    write_set(nowhere / "debian")
    assert fashion_mnist.find_folder() == nowhere / "debian"
    assert fashion_mnist.is_available()
    fashion_mnist.require_fashion_mnist()  # found: no error
    partial = write_set(nowhere / "cache" / "FashionMNIST" / "raw", skip="t10k-labels-idx1-ubyte")
    assert fashion_mnist.find_folder() == nowhere / "debian"  # three of four files is not a set
    (partial / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx(LABELS)))
    assert fashion_mnist.find_folder() == partial  # now complete, and earlier in the order
    monkeypatch.setenv("TOOLKIT_DATA", str(write_set(nowhere / "mine", gz=True)))
    assert fashion_mnist.find_folder() == nowhere / "mine"


def test_nothing_found_is_one_line_naming_the_ways_to_get_it(nowhere):
    assert fashion_mnist.find_folder() is None and not fashion_mnist.is_available()
    with pytest.raises(ToolkitError) as err:
        fashion_mnist.require_fashion_mnist()
    assert str(err.value) == fashion_mnist.HOW_TO_GET and "\n" not in str(err.value)
    with pytest.raises(ToolkitError) as err:
        fashion_mnist.load_raw("train")
    assert str(err.value) == fashion_mnist.HOW_TO_GET


# --- the IDX format ---------------------------------------------------------------------------------
@pytest.mark.parametrize("gz", [False, True])
def test_idx_files_read_back_exactly(tmp_path, gz):
    path = tmp_path / ("a.gz" if gz else "a")
    path.write_bytes(gzip.compress(idx(IMAGES)) if gz else idx(IMAGES))
    back = fashion_mnist.read_idx(path)
    assert back.dtype == np.uint8 and back.shape == (3, 2, 2) and np.array_equal(back, IMAGES)
    path.write_bytes(gzip.compress(idx(LABELS)) if gz else idx(LABELS))
    assert fashion_mnist.read_idx(path).tolist() == [9, 0, 4]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        bytes([0, 0, 8]),  # shorter than a header
        bytes([0, 0, 8, 1, 0, 0, 0]),
        bytes([1, 0, 8, 1, 0, 0, 0, 1, 5]),  # first magic byte
        bytes([0, 1, 8, 1, 0, 0, 0, 1, 5]),  # second magic byte
        bytes([0, 0, 0x0D, 1, 0, 0, 0, 1, 5]),  # 0x0D: float32 data, not uint8
    ],
)
def test_a_bad_idx_header_is_one_line(tmp_path, raw):
    path = tmp_path / "bad"
    path.write_bytes(raw)
    with pytest.raises(ToolkitError) as err:
        fashion_mnist.read_idx(path)
    assert str(err.value) == f"{path} is not an uint8 IDX file (bad header); delete it and get the data again"


def test_the_smallest_valid_idx_files(tmp_path):
    path = tmp_path / "one"
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 1, 5]))  # 8 header bytes and one value
    assert fashion_mnist.read_idx(path).tolist() == [5]
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 0]))  # the header of an empty list
    assert fashion_mnist.read_idx(path).shape == (0,)


def test_a_truncated_or_overlong_idx_file_says_how_many_bytes(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(idx(IMAGES)[:-3])
    with pytest.raises(ToolkitError) as err:
        fashion_mnist.read_idx(path)
    assert str(err.value) == f"{path} is truncated (9 of 12 bytes); get it again"
    path.write_bytes(idx(IMAGES) + b"\x00")
    with pytest.raises(ToolkitError, match=r"\(13 of 12 bytes\)"):
        fashion_mnist.read_idx(path)


# --- loading ------------------------------------------------------------------------------------------
def test_load_raw_reads_the_split_asked_for(nowhere, monkeypatch):
    folder = nowhere / "mine"
    write_set(folder)
    (folder / "t10k-images-idx3-ubyte").write_bytes(idx(IMAGES[:1]))
    (folder / "t10k-labels-idx1-ubyte").write_bytes(idx(LABELS[:1]))
    monkeypatch.setenv("TOOLKIT_DATA", str(folder))
    x, y, where = fashion_mnist.load_raw("train")
    assert np.array_equal(x, IMAGES) and y.tolist() == [9, 0, 4] and where == folder
    x, y, where = fashion_mnist.load_raw("test")
    assert np.array_equal(x, IMAGES[:1]) and y.tolist() == [9]
    assert np.array_equal(fashion_mnist.load_raw()[0], IMAGES)  # the training split by default
    assert (
        len(fashion_mnist.load_fashion_mnist()) == 3
        and fashion_mnist.load_fashion_mnist().info["split"] == "train"
    )


def test_an_unknown_split_is_refused_before_looking(nowhere, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "find_folder", lambda: pytest.fail("looked for the data"))
    with pytest.raises(ToolkitError) as err:
        fashion_mnist.load_raw("validation")
    assert str(err.value) == "Fashion-MNIST split must be 'train' or 'test', got 'validation'"


def test_missing_data_is_downloaded_only_when_allowed(nowhere, monkeypatch):
    calls = []

    def download():
        calls.append(1)
        return write_set(nowhere / "downloaded")

    monkeypatch.setattr(fashion_mnist, "_download", download)
    with pytest.raises(ToolkitError, match="Fashion-MNIST not found"):
        fashion_mnist.load_raw("train", download=False)
    assert calls == []
    x, _, folder = fashion_mnist.load_raw("train")
    assert calls == [1] and folder == nowhere / "downloaded" and np.array_equal(x, IMAGES)
    assert fashion_mnist.download() == nowhere / "downloaded" and calls == [1, 1]


class FakeTorchvision:
    """torchvision.datasets.FashionMNIST as a recorder that writes the files where torchvision would."""

    def __init__(self, fail=False):
        self.calls, self.fail = [], fail
        self.datasets = types.SimpleNamespace(FashionMNIST=self.fashion_mnist)

    def fashion_mnist(self, root, train, download):
        self.calls.append((root, train, download))
        if self.fail:
            raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")
        write_set(Path(root) / "FashionMNIST" / "raw", gz=True)


def test_the_download_asks_torchvision_for_both_splits_into_its_cache(nowhere, monkeypatch):
    fake = FakeTorchvision()
    monkeypatch.setitem(sys.modules, "torchvision", fake)
    monkeypatch.setattr(fashion_mnist, "_download", REAL_DOWNLOAD)  # the fixture's stand-in undone
    cache = nowhere / "cache"
    assert fashion_mnist.download() == cache / "FashionMNIST" / "raw"
    assert fake.calls == [(str(cache), True, True), (str(cache), False, True)]


def test_an_offline_download_returns_none(nowhere, monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", FakeTorchvision(fail=True))
    monkeypatch.setattr(fashion_mnist, "_download", REAL_DOWNLOAD)
    assert fashion_mnist.download() is None
    with pytest.raises(ToolkitError, match="Fashion-MNIST not found"):
        fashion_mnist.load_raw("test")


def test_images_are_scaled_to_minus_one_one_and_padded_with_background(nowhere, monkeypatch):
    monkeypatch.setenv("TOOLKIT_DATA", str(write_set(nowhere / "mine")))
    small = fashion_mnist.load_fashion_mnist("train", pad_to_32=False)
    assert small.x.shape == (3, 1, 2, 2) and small.x.dtype == torch.float32
    assert torch.allclose(small.x[0, 0], torch.tensor([[-1.0, 1.0], [-0.6, 0.6]]), atol=1e-7, rtol=0)
    assert torch.equal(small.x, torch.from_numpy(IMAGES).float().unsqueeze(1) / 127.5 - 1)
    data = fashion_mnist.load_fashion_mnist("train")  # 2 pixels each side: 28x28 -> 32x32, here 2 -> 6
    assert data.x.shape == (3, 1, 6, 6) and data.x.dtype == torch.float32
    assert torch.equal(data.x[:, :, 2:4, 2:4], small.x)  # the image sits 2 pixels in
    background = torch.ones(6, 6, dtype=torch.bool)
    background[2:4, 2:4] = False
    assert torch.all(data.x[:, 0][:, background] == -1.0)  # the rest is black background
    assert data.labels.dtype == torch.int64 and data.labels.tolist() == [9, 0, 4]
    assert data.name == "fashion-mnist" and data.kind == "images"
    assert data.class_names == fashion_mnist.CLASS_NAMES and data.num_classes == 10
    assert data.class_names[9] == "Ankle boot" and data.class_names[0] == "T-shirt/top"
    data.class_names.append("Hat")  # the dataset's list is its own copy
    assert len(fashion_mnist.CLASS_NAMES) == 10
    assert data.info == {"source": str(nowhere / "mine"), "split": "train"}
    assert fashion_mnist.load_fashion_mnist("test").info["split"] == "test"
