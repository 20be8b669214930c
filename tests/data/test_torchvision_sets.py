"""MNIST / Fashion-MNIST / CIFAR-10 from local files: layouts, validation, safe unpickling,
and downloads that only happen when asked (and fail clearly offline)."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import shutil
import tarfile
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch

from ganstudio.data import ImageDataset, list_datasets, open_dataset
from ganstudio.data.torchvision_sets import TORCHVISION_SETS, open_torchvision_set
from ganstudio.errors import DatasetError

FIRST_TEN = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
T10K_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
MNIST_NAMES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


# ----- helpers -----------------------------------------------------------------------------------

def link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.symlink(source, target)
    except (OSError, NotImplementedError):
        shutil.copyfile(source, target)


def idx_bytes(array: np.ndarray) -> bytes:
    magic = 0x0800 + array.ndim
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_tiny_mnist(folder: Path, split: str, count: int, seed: int = 0) -> np.ndarray:
    """Synthetic IDX files for ``split``; returns the labels written."""
    rng = np.random.default_rng(seed)
    prefix = "train" if split == "train" else "t10k"
    labels = rng.integers(0, 10, count).astype(np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(
        idx_bytes(rng.integers(0, 256, (count, 28, 28)).astype(np.uint8)))
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(idx_bytes(labels))
    return labels


def assert_is_t10k(dataset: ImageDataset) -> None:
    assert dataset.images.shape == (10_000, 1, 28, 28)
    assert dataset.images.dtype == torch.uint8
    assert dataset.labels[:10].tolist() == FIRST_TEN
    assert torch.bincount(dataset.labels, minlength=10).tolist() == T10K_COUNTS
    assert dataset.info.class_names == tuple(str(d) for d in range(10))


def cifar_batch(count: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {b"batch_label": b"synthetic", b"labels": rng.integers(0, 10, count).tolist(),
            b"data": rng.integers(0, 256, (count, 3072)).astype(np.uint8),
            b"filenames": [b"x.png"] * count}


def write_cifar(folder: Path, protocol: int = 2) -> dict[str, dict]:
    """Five 4-image training batches and a 3-image test batch; returns them by file name."""
    batches = {f"data_batch_{i}": cifar_batch(4, i) for i in range(1, 6)}
    batches["test_batch"] = cifar_batch(3, 99)
    folder.mkdir(parents=True, exist_ok=True)
    for name, batch in batches.items():
        (folder / name).write_bytes(pickle.dumps(batch, protocol=protocol))
    return batches


# ----- MNIST from real files ---------------------------------------------------------------------

def test_specs_describe_the_three_sets():
    assert set(TORCHVISION_SETS) == {"mnist", "fashion-mnist", "cifar10"}
    assert [(s.natural_size, s.channels, len(s.class_names)) for s in TORCHVISION_SETS.values()] \
        == [(28, 1, 10), (28, 1, 10), (32, 3, 10)]
    assert {row.name for row in list_datasets() if row.group == "torchvision"} \
        == set(TORCHVISION_SETS)


def test_mnist_from_a_flat_folder_of_gz_files(mnist_t10k: Path, tmp_path: Path):
    flat = tmp_path / "flat"
    for name in MNIST_NAMES:
        link_or_copy(mnist_t10k / f"{name}.gz", flat / f"{name}.gz")
    dataset = open_torchvision_set("mnist", root=str(flat))  # auto: no train files -> test
    assert_is_t10k(dataset)
    assert dataset.info.name == "mnist" and dataset.info.source == str(flat)
    assert dataset.info.shape == (1, 28, 28) and dataset.info.size == 10_000
    assert "test" in dataset.info.description


def test_mnist_in_torchvision_raw_layout_uncompressed(mnist_t10k: Path, tmp_path: Path):
    raw = tmp_path / "root" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_NAMES:
        with gzip.open(mnist_t10k / f"{name}.gz", "rb") as source:
            (raw / name).write_bytes(source.read())
    dataset = open_torchvision_set("mnist", root=str(tmp_path / "root"), split="test")
    assert_is_t10k(dataset)
    assert dataset.info.source == str(raw)
    reference = open_torchvision_set("mnist", root=str(mnist_t10k))
    assert torch.equal(dataset.images, reference.images)


def test_fashion_mnist_layout_and_class_names(mnist_t10k: Path, tmp_path: Path):
    raw = tmp_path / "FashionMNIST" / "raw"
    for name in MNIST_NAMES:
        link_or_copy(mnist_t10k / f"{name}.gz", raw / f"{name}.gz")
    dataset = open_torchvision_set("fashion-mnist", root=str(tmp_path))
    assert dataset.info.class_names[0] == "T-shirt/top" and dataset.info.name == "fashion-mnist"
    assert len(dataset) == 10_000


def test_resize_and_channels(mnist_t10k: Path):
    dataset = open_torchvision_set("mnist", root=str(mnist_t10k), image_size=32, channels=3)
    assert dataset.images.shape == (10_000, 3, 32, 32)
    assert dataset.info.shape == (3, 32, 32)
    assert torch.equal(dataset.images[:, 0], dataset.images[:, 2])
    assert dataset.labels[:10].tolist() == FIRST_TEN


def test_open_dataset_end_to_end(mnist_t10k: Path):
    dataset = open_dataset("MNIST", image_size=None, root=str(mnist_t10k))
    assert_is_t10k(dataset)
    batch, labels = dataset.sampler(8, seed=1).next()
    assert batch.shape == (8, 1, 28, 28) and labels.shape == (8,)


def test_auto_prefers_train_and_all_concatenates(mnist_t10k: Path, tmp_path: Path):
    for name in MNIST_NAMES:
        link_or_copy(mnist_t10k / f"{name}.gz", tmp_path / f"{name}.gz")
    train_labels = write_tiny_mnist(tmp_path, "train", 5)
    auto = open_torchvision_set("mnist", root=str(tmp_path))
    assert len(auto) == 5 and auto.labels.tolist() == train_labels.tolist()
    everything = open_torchvision_set("mnist", root=str(tmp_path), split="all")
    assert len(everything) == 10_005
    assert everything.labels[5:15].tolist() == FIRST_TEN


# ----- missing files and downloads ---------------------------------------------------------------

def test_missing_files_name_every_expected_file_and_folder(tmp_path: Path):
    with pytest.raises(DatasetError) as caught:
        open_torchvision_set("mnist", root=str(tmp_path))
    message = str(caught.value)
    for name in ("t10k-images-idx3-ubyte(.gz)", "t10k-labels-idx1-ubyte(.gz)",
                 "train-images-idx3-ubyte(.gz)", "train-labels-idx1-ubyte(.gz)"):
        assert name in message
    assert str(tmp_path) in message and str(tmp_path / "MNIST" / "raw") in message
    assert "data.download = true" in message


def test_asking_for_a_missing_split_names_only_that_split(mnist_t10k: Path):
    with pytest.raises(DatasetError) as caught:
        open_torchvision_set("mnist", root=str(mnist_t10k), split="train")
    message = str(caught.value)
    assert "train-images-idx3-ubyte(.gz) and train-labels-idx1-ubyte(.gz) (train)" in message
    assert "t10k-images" not in message
    with pytest.raises(DatasetError, match=r"\(train\) and .*\(test\)"):
        open_torchvision_set("mnist", root=str(mnist_t10k), split="all")


def test_empty_root_means_the_user_cache(tmp_path: Path, monkeypatch, mnist_t10k: Path):
    monkeypatch.setenv("GANSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    default = tmp_path / "cache" / "torchvision"
    with pytest.raises(DatasetError, match=str(default)):
        open_torchvision_set("mnist", root="")
    for name in MNIST_NAMES:
        link_or_copy(mnist_t10k / f"{name}.gz", default / "MNIST" / "raw" / f"{name}.gz")
    assert len(open_torchvision_set("mnist", root="")) == 10_000


def test_no_download_unless_asked(tmp_path: Path, monkeypatch):
    import torchvision.datasets.mnist as tv_mnist

    def no_network(*args, **kwargs):
        raise AssertionError("a download was attempted with download=False")

    monkeypatch.setattr(tv_mnist, "download_and_extract_archive", no_network)
    with pytest.raises(DatasetError, match="files not found"):
        open_torchvision_set("mnist", root=str(tmp_path), download=False)


def test_failed_download_explains_files_and_reason(tmp_path: Path, monkeypatch):
    import torchvision.datasets.mnist as tv_mnist

    def offline(url, *args, **kwargs):
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(tv_mnist, "download_and_extract_archive", offline)
    with pytest.raises(DatasetError) as caught:
        open_torchvision_set("mnist", root=str(tmp_path / "dl"), download=True)
    message = str(caught.value)
    assert "train-images-idx3-ubyte(.gz)" in message
    assert f"Downloading MNIST into {tmp_path / 'dl'} failed" in message
    assert "Temporary failure in name resolution" in message
    assert "\n" not in message


def test_failed_cifar_download(tmp_path: Path, monkeypatch):
    import torchvision.datasets.cifar as tv_cifar

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(tv_cifar, "download_and_extract_archive", offline)
    with pytest.raises(DatasetError, match="CIFAR-10 files not found.*network is unreachable"):
        open_torchvision_set("cifar10", root=str(tmp_path), download=True)


def test_successful_download_is_read_from_torchvision_layout(tmp_path: Path, monkeypatch):
    import torchvision.datasets.mnist as tv_mnist

    written: dict[str, np.ndarray] = {}

    def fake_download(url, download_root, filename=None, md5=None, **kwargs):
        # Stand in for the network: write what torchvision would have extracted.
        split = "train" if "train" in url else "test"
        if split not in written:
            written[split] = write_tiny_mnist(Path(download_root), split, 6, seed=len(written))

    monkeypatch.setattr(tv_mnist, "download_and_extract_archive", fake_download)
    dataset = open_torchvision_set("mnist", root=str(tmp_path), download=True)
    assert dataset.labels.tolist() == written["train"].tolist()
    assert dataset.info.source == str(tmp_path / "MNIST" / "raw")


# ----- damaged IDX files -------------------------------------------------------------------------

def test_wrong_magic_number_names_the_file(tmp_path: Path):
    write_tiny_mnist(tmp_path, "test", 3)
    labels = tmp_path / "t10k-labels-idx1-ubyte"
    images = tmp_path / "t10k-images-idx3-ubyte"
    shutil.copyfile(labels, images)  # a labels file where the images should be
    with pytest.raises(DatasetError, match="magic number 0x00000801, expected 0x00000803"
                       ) as caught:
        open_torchvision_set("mnist", root=str(tmp_path))
    assert str(images) in str(caught.value)


def test_truncated_idx_names_the_file(tmp_path: Path):
    write_tiny_mnist(tmp_path, "test", 3)
    images = tmp_path / "t10k-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-10])
    with pytest.raises(DatasetError, match="truncated or damaged") as caught:
        open_torchvision_set("mnist", root=str(tmp_path))
    assert str(images) in str(caught.value)


def test_broken_gzip_names_the_file(tmp_path: Path, mnist_t10k: Path):
    data = (mnist_t10k / "t10k-images-idx3-ubyte.gz").read_bytes()
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(data[:5000])
    link_or_copy(mnist_t10k / "t10k-labels-idx1-ubyte.gz", tmp_path / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(DatasetError, match="t10k-images-idx3-ubyte.gz: cannot be read"):
        open_torchvision_set("mnist", root=str(tmp_path))


def test_image_and_label_counts_must_match(tmp_path: Path):
    write_tiny_mnist(tmp_path, "test", 3)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(DatasetError, match="holds 3 images but .* holds 4 labels"):
        open_torchvision_set("mnist", root=str(tmp_path))


# ----- CIFAR-10 ----------------------------------------------------------------------------------

@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_cifar_batches_in_torchvision_layout(tmp_path: Path, protocol: int):
    batches = write_cifar(tmp_path / "cifar-10-batches-py", protocol)
    dataset = open_torchvision_set("cifar10", root=str(tmp_path))
    assert dataset.images.shape == (20, 3, 32, 32)
    first = batches["data_batch_1"]
    # Rows are 1024 red, then 1024 green, then 1024 blue values, each row-major.
    assert np.array_equal(dataset.images[0].numpy(), first[b"data"][0].reshape(3, 32, 32))
    expected = [label for i in range(1, 6) for label in batches[f"data_batch_{i}"][b"labels"]]
    assert dataset.labels.tolist() == expected
    assert dataset.info.class_names[0] == "airplane"
    assert dataset.info.source == str(tmp_path / "cifar-10-batches-py")


def test_cifar_flat_folder_test_split_and_greyscale(tmp_path: Path):
    batches = write_cifar(tmp_path)
    dataset = open_torchvision_set("cifar10", root=str(tmp_path), split="test", channels=1,
                                   image_size=16)
    assert dataset.images.shape == (3, 1, 16, 16)
    assert dataset.labels.tolist() == batches["test_batch"][b"labels"]


def test_cifar_from_the_archive_without_extracting(tmp_path: Path):
    batches = write_cifar(tmp_path / "staging")
    archive = tmp_path / "root" / "cifar-10-python.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        for name in batches:
            tar.add(tmp_path / "staging" / name, arcname=f"cifar-10-batches-py/{name}")
    dataset = open_torchvision_set("cifar10", root=str(archive.parent), split="all")
    assert len(dataset) == 23
    assert dataset.labels[-3:].tolist() == batches["test_batch"][b"labels"]
    assert sorted(p.name for p in archive.parent.iterdir()) == ["cifar-10-python.tar.gz"]
    assert dataset.info.source == str(archive)


class _Exploit:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("payload", ["system", "eval"])
def test_malicious_cifar_pickle_is_refused_without_running(tmp_path: Path, payload: str):
    marker = tmp_path / "pwned"
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    evil = _Exploit(marker) if payload == "system" else _Eval(marker)
    batch = {b"data": evil, b"labels": [0]}
    (folder / "test_batch").write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(DatasetError, match="refusing to load") as caught:
        open_torchvision_set("cifar10", root=str(tmp_path))
    assert str(folder / "test_batch") in str(caught.value)
    assert "not a genuine batch" in str(caught.value)
    assert not marker.exists()


class _Eval:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (eval, (f"open({str(self.marker)!r}, 'w')",))


def test_garbage_cifar_batch_names_the_file(tmp_path: Path):
    (tmp_path / "test_batch").write_bytes(b"\x80\x02 this is not a pickle")
    with pytest.raises(DatasetError, match="test_batch: not a readable CIFAR-10 batch"):
        open_torchvision_set("cifar10", root=str(tmp_path))


def test_cifar_batch_with_wrong_shape_is_rejected(tmp_path: Path):
    batch = {b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}
    (tmp_path / "test_batch").write_bytes(pickle.dumps(batch))
    with pytest.raises(DatasetError, match=r"rows of 3072 pixels \(got uint8 \(2, 100\)\)"):
        open_torchvision_set("cifar10", root=str(tmp_path))


def test_unknown_split_and_set(tmp_path: Path):
    with pytest.raises(DatasetError, match="unknown split 'validation'"):
        open_torchvision_set("mnist", root=str(tmp_path), split="validation")
    with pytest.raises(DatasetError, match="unknown torchvision set 'svhn'"):
        open_torchvision_set("svhn", root=str(tmp_path))


def test_archive_reading_does_not_need_io_on_disk():
    # Sanity check of the in-memory path used above: a BytesIO works as a batch handle.
    from ganstudio.data.torchvision_sets import read_cifar_batch

    images, labels = read_cifar_batch(io.BytesIO(pickle.dumps(cifar_batch(2, 0))), "memory")
    assert images.shape == (2, 3, 32, 32) and labels.dtype == np.int64
